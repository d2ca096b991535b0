package scenario

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Run-time problems a user causes that the loader could not foresee (a timeline
// patch or a policy object the API server refuses, a series that collides with one
// the world writes) name where they are written, as load errors do.

// FieldError is err, a run-time problem with the scenario's field at path, as a
// LoadError naming the scenario file, the field's line and the field.
func (l *Loaded) FieldError(path string, err error) error {
	line := 0
	if l.lineOf != nil {
		line = l.lineOf(path)
	}
	f := l.Scenario.File
	return &LoadError{Scenario: l.Scenario.Metadata.Name, ScenarioFile: f, File: f, Line: line, Path: path, Msg: err.Error(), err: err}
}

// ObjectError is err, a run-time problem with the field at path ("" for the whole
// object) of a policy object of l (its Canary, Target, one of its Templates,
// AlertProviders or Objects), as a LoadError naming the object's file, the field's
// line, the object and the field. ok is false for an object l does not hold.
func (l *Loaded) ObjectError(obj client.Object, path string, err error) (e error, ok bool) {
	d := l.docs[obj]
	if d == nil {
		return err, false
	}
	return &LoadError{Scenario: l.Scenario.Metadata.Name, ScenarioFile: l.Scenario.File, File: d.file, Line: lineIn(d, path),
		Object: d.object, Path: path, Msg: err.Error(), err: err}, true
}

// Where is where the field at path ("" for the whole object) of a policy object of l
// is written: the file, the line (of the nearest written ancestor when the field is
// not written), and the object as messages name it ("Canary podinfo"). ok is false
// for an object l does not hold.
func (l *Loaded) Where(obj client.Object, path string) (file string, line int, object string, ok bool) {
	d := l.docs[obj]
	if d == nil {
		return "", 0, "", false
	}
	return d.file, lineIn(d, path), d.object, true
}
