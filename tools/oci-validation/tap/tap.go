// Package tap is a small TAP version 13 producer with the API the OCI
// runtime-tools validation suite imports as github.com/mndrix/tap-go.
// That library is not packaged by Debian; build.sh places this file at its
// import path so the suite builds from Debian's Go packages alone.
package tap

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// T writes one TAP stream.
type T struct {
	Writer    io.Writer // defaults to os.Stdout
	TODO      bool      // mark the next results as TODO
	count     *int      // shared with the producers Todo returns
	planAhead bool
}

// New returns a producer writing to standard output.
func New() *T { return &T{count: new(int)} }

func (t *T) out() io.Writer {
	if t.Writer == nil {
		return os.Stdout
	}
	return t.Writer
}

func (t *T) line(format string, a ...interface{}) {
	fmt.Fprintf(t.out(), format+"\n", a...)
}

// Header starts the stream; a positive count is announced as the plan.
func (t *T) Header(count int) {
	t.line("TAP version 13")
	if count > 0 {
		t.planAhead = true
		t.line("1..%d", count)
	}
}

// Ok reports one test result.
func (t *T) Ok(ok bool, description string) {
	status := "ok"
	if !ok {
		status = "not ok"
	}
	suffix := ""
	if t.TODO {
		suffix = " # TODO"
	}
	*t.count++
	t.line("%s %d - %s%s", status, *t.count, oneLine(description), suffix)
}

// Pass reports a passing test.
func (t *T) Pass(description string) { t.Ok(true, description) }

// Fail reports a failing test.
func (t *T) Fail(description string) { t.Ok(false, description) }

// Count is the number of results reported so far.
func (t *T) Count() int { return *t.count }

// AutoPlan prints the plan after the results, unless Header announced it.
func (t *T) AutoPlan() {
	if !t.planAhead {
		t.line("1..%d", t.Count())
	}
}

// Todo returns a producer, numbering with t, whose results are TODO.
func (t *T) Todo() *T {
	todo := *t
	todo.TODO = true
	return &todo
}

// Skip reports count skipped tests.
func (t *T) Skip(count int, description string) {
	for i := 0; i < count; i++ {
		*t.count++
		t.line("ok %d # SKIP %s", *t.count, oneLine(description))
	}
}

// Diagnostic prints a comment line.
func (t *T) Diagnostic(message string) { t.line("# %s", oneLine(message)) }

// Diagnosticf prints a formatted comment line.
func (t *T) Diagnosticf(format string, a ...interface{}) {
	t.Diagnostic(fmt.Sprintf(format, a...))
}

// YAML prints a YAML block (JSON is valid YAML) attached to the last result.
func (t *T) YAML(message interface{}) error {
	body, err := json.MarshalIndent(message, "  ", "  ")
	if err != nil {
		return err
	}
	t.line("  ---\n  %s\n  ...", body)
	return nil
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "\\n") }
