package router

import (
	"context"

	"aviary.dev/aviary/api/v1beta1"
)

// Nop is the mesh router of provider kubernetes (Flagger's NopRouter): there is no
// traffic split, the apex Service always selects the primary. It implements
// engine.MeshRouter.
type Nop struct{}

// Reconcile does nothing.
func (Nop) Reconcile(context.Context, *v1beta1.Canary) error { return nil }

// GetRoutes reports primary 0 / canary 100 once an iteration has run
// (status.iterations > 0), else primary 100 / canary 0; never mirrored.
func (Nop) GetRoutes(_ context.Context, cd *v1beta1.Canary) (primary, canary int, mirrored bool, err error) {
	if cd.Status.Iterations > 0 {
		return 0, 100, false, nil
	}
	return 100, 0, false, nil
}

// SetRoutes does nothing.
func (Nop) SetRoutes(context.Context, *v1beta1.Canary, int, int, bool) error { return nil }

// CanMirror is false: there is no traffic to mirror.
func (Nop) CanMirror(*v1beta1.Canary) bool { return false }
