package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

type counting struct {
	client.Client
	mu sync.Mutex
	n  map[string]int
	d  map[string]time.Duration
}

func (c *counting) rec(k string, t time.Time) {
	c.mu.Lock()
	c.n[k]++
	c.d[k] += time.Since(t)
	c.mu.Unlock()
}
func (c *counting) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	defer c.rec(fmt.Sprintf("get %T", obj), time.Now())
	return c.Client.Get(ctx, key, obj, opts...)
}
func (c *counting) List(ctx context.Context, obj client.ObjectList, opts ...client.ListOption) error {
	defer c.rec(fmt.Sprintf("list %T", obj), time.Now())
	return c.Client.List(ctx, obj, opts...)
}
func (c *counting) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	defer c.rec(fmt.Sprintf("update %T", obj), time.Now())
	return c.Client.Update(ctx, obj, opts...)
}
func (c *counting) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	defer c.rec(fmt.Sprintf("create %T", obj), time.Now())
	return c.Client.Create(ctx, obj, opts...)
}
func (c *counting) Patch(ctx context.Context, obj client.Object, p client.Patch, opts ...client.PatchOption) error {
	defer c.rec(fmt.Sprintf("patch %T", obj), time.Now())
	return c.Client.Patch(ctx, obj, p, opts...)
}
func (c *counting) Status() client.SubResourceWriter { return cstatus{c, c.Client.Status()} }

type cstatus struct {
	c *counting
	client.SubResourceWriter
}

func (s cstatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	defer s.c.rec(fmt.Sprintf("status %T", obj), time.Now())
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}
