package lint

// CoreRuleIDs are the IDs of the rules of rules_loader.go and rules_query.go: the
// seed and output tests pin those rules' findings, the analysis and webhook rules'
// tests theirs.
func CoreRuleIDs() map[string]bool {
	ids := map[string]bool{}
	for _, rules := range [][]*Rule{loaderQueryRules, queryRules, loaderRules} {
		for _, r := range rules {
			ids[r.ID] = true
		}
	}
	return ids
}
