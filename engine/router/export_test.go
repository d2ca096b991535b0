package router

// Unexported parts the external tests look into.
var (
	IsVerified   = isVerified
	MarkVerified = markVerified
)

// VerifiedInputs is verifiedInputs, for the external tests.
func (k *KubernetesServices) VerifiedInputs() string { return k.verifiedInputs() }
