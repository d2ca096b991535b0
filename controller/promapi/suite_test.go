package promapi_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestPromAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "controller/promapi")
}
