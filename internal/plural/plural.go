// Package plural writes counts of things in English for the commands'
// summaries: "1 workload", "6 warnings".
package plural

import "strconv"

// Count is n and the noun, with "s" added unless n is 1. Nouns whose
// plural is not regular are not passed here.
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
