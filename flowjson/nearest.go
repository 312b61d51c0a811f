package flowjson

import "strings"

// Nearest returns the name of known nearest to name (case-insensitively,
// by edit distance), and whether it is near enough to suggest: at most two
// edits, or a third of its length. Manifests and settings files use it to
// say "did you mean" for a misspelt key.
func Nearest(name string, known []string) (string, bool) {
	best, bestDist := "", -1
	for _, k := range known {
		if d := editDistance(strings.ToLower(name), k); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, bestDist >= 0 && (bestDist <= 2 || bestDist*3 <= len(best))
}

// editDistance is the Levenshtein distance between a and b, in bytes (keys
// are ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
