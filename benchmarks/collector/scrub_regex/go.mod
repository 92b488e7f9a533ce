module scrubregex

go 1.22
