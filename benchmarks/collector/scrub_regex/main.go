// Times Go's regexp (the engine of the collector's OTTL replace_pattern) on the scrub's
// pattern: what each replace_all_patterns call does to one attribute value (MatchString,
// then ReplaceAllString when it matches). Reads {"patterns": {name: [pattern, replacement]},
// "values": [...], "iterations": N} on stdin, writes per pattern its program size, the
// nanoseconds per value and each value as scrubbed.
package main

import (
	"encoding/json"
	"os"
	"regexp"
	"regexp/syntax"
	"time"
)

type request struct {
	Patterns   map[string][2]string `json:"patterns"`
	Values     []string             `json:"values"`
	Iterations int                  `json:"iterations"`
}

type result struct {
	Instructions int       `json:"instructions"`
	Nanoseconds  []float64 `json:"nanoseconds"`
	Scrubbed     []string  `json:"scrubbed"`
}

func scrub(re *regexp.Regexp, replacement, value string) string {
	if re.MatchString(value) {
		return re.ReplaceAllString(value, replacement)
	}
	return value
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		panic(err)
	}
	out := map[string]result{}
	for name, pair := range req.Patterns {
		re := regexp.MustCompile(pair[0])
		parsed, err := syntax.Parse(pair[0], syntax.Perl)
		if err != nil {
			panic(err)
		}
		prog, err := syntax.Compile(parsed.Simplify())
		if err != nil {
			panic(err)
		}
		res := result{Instructions: len(prog.Inst)}
		for _, value := range req.Values {
			start := time.Now()
			for i := 0; i < req.Iterations; i++ {
				scrub(re, pair[1], value)
			}
			elapsed := float64(time.Since(start).Nanoseconds())
			res.Nanoseconds = append(res.Nanoseconds, elapsed/float64(req.Iterations))
			res.Scrubbed = append(res.Scrubbed, scrub(re, pair[1], value))
		}
		out[name] = res
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
