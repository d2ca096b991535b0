package hooks

// Payload is the JSON body Flagger POSTs to every webhook (docs/flagger-semantics.md#payload-and-checksum).
type Payload struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Phase     string            `json:"phase"`
	Checksum  string            `json:"checksum"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// Call records one webhook call and its result.
type Call struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	URL   string `json:"url"`
	Phase string `json:"phase"`
	// OK is Flagger's success rule: the final status is <= 202.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}
