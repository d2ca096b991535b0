package lint

import (
	"encoding/json"
	"io"
	"net/url"
	"path/filepath"

	"aviary.dev/aviary/version"
)

// HelpURI is where the rules are documented: README's "Lint a policy" section.
const HelpURI = "https://github.com/aviary-dev/aviary/blob/main/README.md#lint-a-policy"

// sarifSchema is the $schema a SARIF 2.1.0 log names.
const sarifSchema = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

// The part of SARIF 2.1.0 lint writes (field names as the standard spells them).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool    sarifTool     `json:"tool"`
		Results []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name           string      `json:"name"`
		Version        string      `json:"version"`
		InformationURI string      `json:"informationUri"`
		Rules          []sarifRule `json:"rules"`
	}
	sarifText struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifRule struct {
		ID                   string       `json:"id"`
		ShortDescription     sarifText    `json:"shortDescription"`
		FullDescription      sarifText    `json:"fullDescription"`
		Help                 sarifText    `json:"help"`
		HelpURI              string       `json:"helpUri"`
		DefaultConfiguration sarifLevel   `json:"defaultConfiguration"`
		Properties           sarifRuleBag `json:"properties"`
	}
	sarifLevel struct {
		Level string `json:"level"`
	}
	sarifRuleBag struct {
		Scenario string `json:"scenario,omitempty"`
	}
	sarifResult struct {
		RuleID    string          `json:"ruleId"`
		RuleIndex int             `json:"ruleIndex"`
		Level     string          `json:"level"`
		Message   sarifText       `json:"message"`
		Locations []sarifLocation `json:"locations"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysical          `json:"physicalLocation"`
		LogicalLocations []sarifLogicalLocation `json:"logicalLocations,omitempty"`
	}
	sarifPhysical struct {
		ArtifactLocation sarifArtifact `json:"artifactLocation"`
		Region           *sarifRegion  `json:"region,omitempty"`
	}
	sarifArtifact struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine int `json:"startLine"`
	}
	sarifLogicalLocation struct {
		FullyQualifiedName string `json:"fullyQualifiedName"`
	}
)

// WriteSARIF writes the report as a SARIF 2.1.0 log for code scanning: one run of
// the tool aviary with every rule, and a result per finding whose location is the
// file relative to the source root (%SRCROOT%) and its line.
func (r *Report) WriteSARIF(w io.Writer) error {
	rules := Rules()
	index := map[string]int{}
	driver := sarifDriver{Name: "aviary", Version: version.Version, InformationURI: HelpURI, Rules: []sarifRule{}}
	for i, rule := range rules {
		index[rule.ID] = i
		help := rule.Help
		if rule.Fix != "" {
			help += "\n\nFix: " + rule.Fix
		}
		driver.Rules = append(driver.Rules, sarifRule{ID: rule.ID, ShortDescription: sarifText{Text: rule.Title},
			FullDescription: sarifText{Text: rule.Help}, Help: sarifText{Text: help, Markdown: help}, HelpURI: HelpURI,
			DefaultConfiguration: sarifLevel{Level: rule.Severity.SARIFLevel()}, Properties: sarifRuleBag{Scenario: rule.Scenario}})
	}
	run := sarifRun{Tool: sarifTool{Driver: driver}, Results: []sarifResult{}}
	for _, f := range r.Findings {
		text := f.Message
		if f.Fix != "" {
			text += "\nFix: " + f.Fix
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: artifact(f.File)}}
		if f.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
		}
		if name := logicalName(f); name != "" {
			loc.LogicalLocations = []sarifLogicalLocation{{FullyQualifiedName: name}}
		}
		run.Results = append(run.Results, sarifResult{RuleID: f.Rule, RuleIndex: index[f.Rule], Level: f.Severity.SARIFLevel(),
			Message: sarifText{Text: text}, Locations: []sarifLocation{loc}})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// artifact is a file's location: relative to the source root as given, or a file
// URI when absolute.
func artifact(file string) sarifArtifact {
	p := filepath.ToSlash(file)
	if filepath.IsAbs(file) {
		return sarifArtifact{URI: (&url.URL{Scheme: "file", Path: p}).String()}
	}
	return sarifArtifact{URI: (&url.URL{Path: p}).String(), URIBaseID: "%SRCROOT%"}
}

// logicalName is the object and field a finding is about ("Canary podinfo/spec.analysis.threshold").
func logicalName(f Finding) string {
	switch {
	case f.Object != "" && f.Field != "":
		return f.Object + "/" + f.Field
	case f.Object != "":
		return f.Object
	}
	return f.Field
}
