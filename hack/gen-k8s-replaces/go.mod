module aviary.dev/aviary/hack/gen-k8s-replaces

go 1.26.0
