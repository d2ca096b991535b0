package world

import (
	"maps"
	"slices"
)

// noServerCode is what a proxy answers when the Service it routes to has no ready
// endpoint (Traefik: "no available server").
const noServerCode = "503"

// buildMixes makes the table of response codes (every code a version or fault can
// answer with, and those the world itself writes) and the mix of every version and
// fault, once: a scrape only picks them.
func (w *Model) buildMixes() {
	set := map[string]bool{SuccessCode: true, ErrorRateCode: true, noServerCode: true}
	for _, b := range w.spec.Versions {
		for code := range b.Codes {
			set[code] = true
		}
	}
	for _, f := range w.spec.Faults {
		for code := range f.Codes {
			set[code] = true
		}
	}
	w.codes = slices.Sorted(maps.Keys(set))
	w.okCode = w.codeIndex(SuccessCode)
	w.versionMix = map[string]mix{}
	for img, b := range w.spec.Versions {
		if m := w.mixOf(b.ErrorRate, b.Codes); m != nil {
			w.versionMix[img] = m
		}
	}
	w.faultMix = make([]mix, len(w.spec.Faults))
	for i, f := range w.spec.Faults {
		w.faultMix[i] = w.mixOf(f.ErrorRate, f.Codes)
	}
	w.defaultMix = mix{{code: w.successCode(), share: 1}}
}

// mixOf is the mix errorRate (codes {"500": errorRate}) or codes gives, or nil when
// neither is given: 200 for what the codes leave, first, then each code in the
// table's order. Spec.Validate has checked the codes and their sum.
func (w *Model) mixOf(errorRate *float64, codes map[string]float64) mix {
	if errorRate != nil {
		codes = map[string]float64{ErrorRateCode: *errorRate}
	}
	if codes == nil {
		return nil
	}
	m := mix{{code: w.successCode()}}
	rest := 0.0
	for i, code := range w.codes {
		share, ok := codes[code]
		if !ok || code == SuccessCode {
			continue
		}
		rest += share
		m = append(m, codeShare{code: i, share: share, failed: code[0] == '5'})
	}
	m[0].share = 1 - rest
	return m
}

// successCode is the index of 200 in the code table.
func (w *Model) successCode() int { return w.okCode }

// codeIndex is the index of a code of the table.
func (w *Model) codeIndex(code string) int {
	i, _ := slices.BinarySearch(w.codes, code)
	return i
}
