// Package lcs computes the shortest edit script between two sequences from
// their longest common subsequence: the one diff behind the configuration
// diffs of `pixform fmt -diff` and the word diffs of prompts in plans.
package lcs
