// A peer built on containerd's own Go ttrpc package, to check vmrt's C++
// implementation against the real thing in both directions. Built at test
// time in GOPATH mode from the Debian packages (golang-go,
// golang-github-containerd-ttrpc-dev); nothing built is kept.
//
//	interop serve SOCKET   serves vmrt.test.Echo; prints "ready" once
//	                       listening; exits when stdin closes
//	interop call SOCKET    calls a vmrt.test.Echo served by vmrt and checks
//	                       each answer; exits 0 when all were as expected
//
// Payloads are google.protobuf.StringValue (gogo's types package here,
// libprotobuf's on the C++ side).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const service = "vmrt.test.Echo"

func text(unmarshal func(interface{}) error) (string, error) {
	var in types.StringValue
	if err := unmarshal(&in); err != nil {
		return "", err
	}
	return in.Value, nil
}

func serve(path string) error {
	server, err := ttrpc.NewServer()
	if err != nil {
		return err
	}
	server.Register(service, map[string]ttrpc.Method{
		"Echo": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			s, err := text(unmarshal)
			return &types.StringValue{Value: s}, err
		},
		"Fail": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			s, err := text(unmarshal)
			if err != nil {
				return nil, err
			}
			return nil, status.Errorf(codes.NotFound, "no such container %s", s)
		},
		"Context": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			if _, err := text(unmarshal); err != nil {
				return nil, err
			}
			value, _ := ttrpc.GetMetadataValue(ctx, "x-vmrt")
			_, deadline := ctx.Deadline()
			return &types.StringValue{Value: fmt.Sprintf("%s deadline=%v", value, deadline)}, nil
		},
		"Sleep": func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			s, err := text(unmarshal)
			if err != nil {
				return nil, err
			}
			ms, _ := strconv.Atoi(s)
			select {
			case <-time.After(time.Duration(ms) * time.Millisecond):
			case <-ctx.Done():
			}
			return &types.StringValue{Value: s}, nil
		},
	})
	listener, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	go func() {
		io.Copy(io.Discard, os.Stdin)
		server.Close()
		os.Exit(0)
	}()
	return server.Serve(context.Background(), listener)
}

func call(client *ttrpc.Client, ctx context.Context, method, in string) (string, error) {
	var out types.StringValue
	err := client.Call(ctx, service, method, &types.StringValue{Value: in}, &out)
	return out.Value, err
}

func expectStatus(err error, code codes.Code, message string) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != code || st.Message() != message {
		return fmt.Errorf("got %v, want %v %q", err, code, message)
	}
	return nil
}

func check(path string) error {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	client := ttrpc.NewClient(conn)
	defer client.Close()
	ctx := context.Background()

	if out, err := call(client, ctx, "Echo", "from go"); err != nil || out != "from go" {
		return fmt.Errorf("Echo: %q, %v", out, err)
	}
	_, err = call(client, ctx, "Fail", "c1")
	if err := expectStatus(err, codes.NotFound, "no such container c1"); err != nil {
		return fmt.Errorf("Fail: %v", err)
	}
	_, err = call(client, ctx, "Nope", "")
	if err := expectStatus(err, codes.Unimplemented, "method Nope"); err != nil {
		return fmt.Errorf("unknown method: %v", err)
	}
	var out types.StringValue
	err = client.Call(ctx, "nope.Service", "Echo", &types.StringValue{}, &out)
	if err := expectStatus(err, codes.Unimplemented, "service nope.Service"); err != nil {
		return fmt.Errorf("unknown service: %v", err)
	}

	mdctx := ttrpc.WithMetadata(ctx, ttrpc.MD{"x-vmrt": []string{"v1"}})
	mdctx, cancel := context.WithTimeout(mdctx, 10*time.Second)
	defer cancel()
	if out, err := call(client, mdctx, "Context", ""); err != nil || out != "v1 deadline=true" {
		return fmt.Errorf("Context: %q, %v", out, err)
	}

	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := call(client, short, "Sleep", "1000"); !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Sleep past its deadline: %v", err)
	}

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			in := fmt.Sprintf("call %d", i)
			if out, err := call(client, ctx, "Echo", in); err != nil || out != in {
				errs <- fmt.Errorf("concurrent Echo %d: %q, %v", i, out, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	fmt.Println("all calls answered as expected")
	return nil
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: interop serve|call SOCKET")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2])
	case "call":
		err = check(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop:", err)
		os.Exit(1)
	}
}
