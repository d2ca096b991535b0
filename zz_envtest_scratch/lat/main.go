package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"aviary.dev/aviary/api/v1beta1"
	"aviary.dev/aviary/sim"
)

func main() {
	ctx := context.Background()
	env, err := sim.StartEnvtest(ctx, sim.EnvtestOptions{})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	c := env.Client()
	_ = c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}})
	n := int32(1)
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "x"}, Spec: appsv1.DeploymentSpec{Replicas: &n,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}}}}}
	if err := c.Create(ctx, d); err != nil {
		panic(err)
	}
	for round := 0; round < 3; round++ {
		t := time.Now()
		for i := 0; i < 200; i++ {
			if err := c.Get(ctx, client.ObjectKeyFromObject(d), &appsv1.Deployment{}); err != nil {
				panic(err)
			}
		}
		fmt.Println("get deployment", time.Since(t)/200)
		t = time.Now()
		for i := 0; i < 200; i++ {
			err := c.Get(ctx, client.ObjectKey{Namespace: "x", Name: "nope"}, &v1beta1.Canary{})
			_ = err
		}
		fmt.Println("get canary (404)", time.Since(t)/200)
		t = time.Now()
		for i := 0; i < 50; i++ {
			d.Labels = map[string]string{"i": fmt.Sprint(i, round)}
			if err := c.Update(ctx, d); err != nil {
				panic(err)
			}
		}
		fmt.Println("update deployment", time.Since(t)/50)
	}
}
