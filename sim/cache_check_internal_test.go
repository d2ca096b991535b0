package sim

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/proto"
	istionet "istio.io/client-go/pkg/apis/networking/v1beta1"
	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/engine"
)

// checkCache compares every object the fast client's read cache holds with what its
// tracker stores (as served): a cached object is handed out without a copy
// (client.UnsafeDisableDeepCopy), so whoever changed one would show here.
func (c *fastClient) checkCache() error {
	for k, cached := range c.objects {
		_, gvr, err := c.kind(cached)
		if err != nil {
			return err
		}
		got, err := c.tracker.Get(gvr, k.key.Namespace, k.key.Name)
		if err != nil {
			return fmt.Errorf("%s %s cached but not stored: %w", k.typ, k.key, err)
		}
		stored := got.(client.Object)
		asServed(stored)
		if !sameObject(cached, stored) {
			return fmt.Errorf("%s %s: the cached object is not the stored one:\ncached %+v\nstored %+v", k.typ, k.key, cached, stored)
		}
	}
	return nil
}

// sameObject compares objects of one type; Istio's protobuf specs with proto.Equal.
func sameObject(a, b client.Object) bool {
	switch x := a.(type) {
	case *istionet.VirtualService:
		y := b.(*istionet.VirtualService)
		return equality.Semantic.DeepEqual(x.ObjectMeta, y.ObjectMeta) && proto.Equal(&x.Spec, &y.Spec)
	case *istionet.DestinationRule:
		y := b.(*istionet.DestinationRule)
		return equality.Semantic.DeepEqual(x.ObjectMeta, y.ObjectMeta) && proto.Equal(&x.Spec, &y.Spec)
	}
	return equality.Semantic.DeepEqual(a, b)
}

// cacheChecker checks the fast client's cache after every tick.
type cacheChecker struct {
	next engine.TickObserver
	c    *fastClient
	errs *[]error
}

func (o cacheChecker) ObserveTick(rec engine.TickRecord) {
	if err := o.c.checkCache(); err != nil {
		*o.errs = append(*o.errs, fmt.Errorf("after the tick at %s: %w", rec.At.Sub(Epoch), err))
	}
	o.next.ObserveTick(rec)
}

var _ = ginkgo.Describe("the fast client's read cache", func() {
	files, err := filepath.Glob(filepath.Join("..", "scenarios", "*.yaml"))
	if err != nil {
		panic(err)
	}
	slices.Sort(files)
	entries := []ginkgo.TableEntry{}
	for _, f := range files {
		entries = append(entries, ginkgo.Entry(filepath.Base(f), f))
	}
	ginkgo.DescribeTable("holds what is stored after every tick of every library scenario",
		func(file string) {
			l, err := LoadFile(file)
			Expect(err).NotTo(HaveOccurred())
			r, err := newRun(l, RunOptions{EveryTick: true})
			Expect(err).NotTo(HaveOccurred())
			fast, ok := r.client.(*fastClient)
			Expect(ok).To(BeTrue())
			var errs []error
			r.engine.Observer = cacheChecker{next: &r.ticks, c: fast, errs: &errs}
			Expect(r.setup(context.Background())).To(Succeed())
			Expect(r.loop(context.Background())).To(Succeed())
			Expect(errs).To(BeEmpty())
			Expect(len(r.ticks.records)).To(BeNumerically(">", 10))
			Expect(fast.checkCache()).To(Succeed())
		},
		entries,
	)
})
