// A Go gRPC client of muvtuber.chatbot.v2.ChatbotService, as muvtuber has: on
// grpc-go, dialed with grpc.Dial(target, grpc.WithInsecure()) over plaintext
// HTTP/2 (a fourth gRPC implementation beside the server's Connect, grpc-js and
// grpcio's C core).
//
// It needs no generated code: messages are encoded by hand (every field of the
// contract is a string), which also pins the exact field numbers on the wire,
// and a tiny codec hands the bytes to grpc-go as they are. It builds against
// grpc-go 1.33 (Debian's golang-google-grpc-dev) in GOPATH mode, no modules:
//
//	GO111MODULE=off GOPATH=$tmp:/usr/share/gocode go build -o chatbot_client chatbot_client.go
//
// Usage: chatbot_client HOST:PORT SCRIPT_JSON
// SCRIPT_JSON is a list of calls: {"method": "NewSession", "request": {...}},
// with an optional "timeout" in seconds (default 10) and "wait_for_ready":
// true (grpc-go's WaitForReady: while the server is down, the call waits for
// it to come back instead of failing, as a reconnecting client does), and for
// ChatStream an optional "cancel_after": cancel the call once that many
// messages arrived.
// {"method": "Pause"} prints {"ok": {}} and waits for a line on stdin (a test
// restarts the server meanwhile).
// A request value "$N.field" is replaced by that field of call N's response.
// Prints one JSON line per call: {"ok": {...}} or {"code": "NOT_FOUND", "details": "..."};
// for ChatStream {"stream": [{"sentence"|"response": ..., "at": ms}, ...], "code": "OK"|..., "details": ...},
// "at" being when the message arrived (ms since the epoch, the fake upstream's eventTimes clock).
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

const service = "/muvtuber.chatbot.v2.ChatbotService/"

type method struct {
	request  map[string]uint64 // field name -> number
	response map[uint64]string // field number -> name
}

var methods = map[string]method{
	"NewSession":    {map[string]uint64{"config": 1, "initial_prompt": 2}, map[uint64]string{1: "session_id", 2: "initial_response"}},
	"Chat":          {map[string]uint64{"session_id": 1, "prompt": 2}, map[uint64]string{2: "response"}},
	"DeleteSession": {map[string]uint64{"session_id": 1}, map[uint64]string{1: "session_id"}},
	"ChatStream":    {map[string]uint64{"session_id": 1, "prompt": 2}, map[uint64]string{1: "sentence", 2: "response"}},
}

// streaming: the server-streaming methods, called with a stream instead of Invoke.
var streaming = map[string]bool{"ChatStream": true}

// grpc-go's Code.String() is CamelCase ("ResourceExhausted"); the canonical
// names other implementations print (grpcio's StatusCode.name) are upper case.
var codeNames = map[string]string{
	"OK": "OK", "Canceled": "CANCELLED", "Unknown": "UNKNOWN", "InvalidArgument": "INVALID_ARGUMENT",
	"DeadlineExceeded": "DEADLINE_EXCEEDED", "NotFound": "NOT_FOUND", "AlreadyExists": "ALREADY_EXISTS",
	"PermissionDenied": "PERMISSION_DENIED", "ResourceExhausted": "RESOURCE_EXHAUSTED",
	"FailedPrecondition": "FAILED_PRECONDITION", "Aborted": "ABORTED", "OutOfRange": "OUT_OF_RANGE",
	"Unimplemented": "UNIMPLEMENTED", "Internal": "INTERNAL", "Unavailable": "UNAVAILABLE",
	"DataLoss": "DATA_LOSS", "Unauthenticated": "UNAUTHENTICATED",
}

// rawCodec passes messages through as the bytes they already are.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return b, nil
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	p, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
	}
	*p = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "raw" }

func appendVarint(out []byte, n uint64) []byte {
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	return append(out, byte(n))
}

// encode writes every field as a length-delimited string, in field-number order.
func encode(fields map[string]uint64, request map[string]string) []byte {
	names := make([]string, 0, len(request))
	for name := range request {
		if _, ok := fields[name]; !ok {
			fail("unknown request field %q", name)
		}
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool { return fields[names[i]] < fields[names[j]] })
	var out []byte
	for _, name := range names {
		out = appendVarint(out, fields[name]<<3|2)
		out = appendVarint(out, uint64(len(request[name])))
		out = append(out, request[name]...)
	}
	return out
}

func readVarint(data []byte, i int) (uint64, int) {
	var result uint64
	for shift := uint(0); ; shift += 7 {
		if i >= len(data) || shift > 63 {
			fail("truncated varint in response")
		}
		b := data[i]
		i++
		result |= uint64(b&0x7f) << shift
		if b&0x80 == 0 {
			return result, i
		}
	}
}

func decode(names map[uint64]string, data []byte) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(data); {
		var key, length uint64
		key, i = readVarint(data, i)
		number, wire := key>>3, key&7
		if wire != 2 {
			fail("unexpected wire type %d for field %d", wire, number)
		}
		length, i = readVarint(data, i)
		if length > uint64(len(data)-i) {
			fail("field %d overruns the response", number)
		}
		name, ok := names[number]
		if !ok {
			name = "unknown_" + strconv.FormatUint(number, 10)
		}
		out[name] = string(data[i : i+int(length)])
		i += int(length)
	}
	return out
}

type call struct {
	Method       string            `json:"method"`
	Request      map[string]string `json:"request"`
	Timeout      *float64          `json:"timeout"`
	WaitForReady bool              `json:"wait_for_ready"`
	CancelAfter  int               `json:"cancel_after"`
}

// result is one printed line: {"ok": {...}} (OK non-nil, even when empty) or
// {"code": ..., "details": ...}.
type result struct {
	OK      map[string]string
	Code    string
	Details string
	// Stream: a streaming call's messages (then Code is "OK" or the status it ended with).
	Stream []map[string]interface{}
}

func (r result) MarshalJSON() ([]byte, error) {
	if r.Stream != nil {
		return json.Marshal(struct {
			Stream  []map[string]interface{} `json:"stream"`
			Code    string                   `json:"code"`
			Details string                   `json:"details,omitempty"`
		}{r.Stream, r.Code, r.Details})
	}
	if r.OK != nil {
		return json.Marshal(struct {
			OK map[string]string `json:"ok"`
		}{r.OK})
	}
	return json.Marshal(struct {
		Code    string `json:"code"`
		Details string `json:"details"`
	}{r.Code, r.Details})
}

// codeName is the canonical upper-case name of an error's status code.
func codeName(err error) (string, string) {
	st, _ := status.FromError(err)
	name, known := codeNames[st.Code().String()]
	if !known {
		name = st.Code().String()
	}
	return name, st.Message()
}

// streamCall runs a server-streaming call: every message with its arrival time, then the status it ended with.
func streamCall(conn *grpc.ClientConn, c call, m method, request map[string]string, timeout float64) result {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout*float64(time.Second)))
	defer cancel()
	r := result{Stream: []map[string]interface{}{}}
	stream, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, service+c.Method, grpc.ForceCodec(rawCodec{}))
	if err == nil {
		err = stream.SendMsg(encode(m.request, request))
	}
	if err == nil {
		err = stream.CloseSend()
	}
	for err == nil {
		var reply []byte
		if err = stream.RecvMsg(&reply); err != nil {
			break
		}
		message := map[string]interface{}{"at": float64(time.Now().UnixNano()) / 1e6}
		for name, value := range decode(m.response, reply) {
			message[name] = value
		}
		r.Stream = append(r.Stream, message)
		if len(r.Stream) == c.CancelAfter {
			cancel()
		}
	}
	if err == io.EOF {
		r.Code = "OK"
	} else {
		r.Code, r.Details = codeName(err)
	}
	return r
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "chatbot_client: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		fail("usage: chatbot_client HOST:PORT SCRIPT_JSON")
	}
	target := os.Args[1]
	var script []call
	if err := json.Unmarshal([]byte(os.Args[2]), &script); err != nil {
		fail("bad script: %v", err)
	}

	conn, err := grpc.Dial(target, grpc.WithInsecure())
	if err != nil {
		fail("dial %s: %v", target, err)
	}
	defer conn.Close()

	var results []result
	stdin := bufio.NewReader(os.Stdin)
	for _, c := range script {
		if c.Method == "Pause" {
			r := result{OK: map[string]string{}}
			results = append(results, r)
			printResult(r)
			if _, err := stdin.ReadString('\n'); err != nil {
				fail("pause: stdin: %v", err)
			}
			continue
		}
		m, ok := methods[c.Method]
		if !ok {
			fail("unknown method %q", c.Method)
		}
		request := map[string]string{}
		for name, value := range c.Request {
			if strings.HasPrefix(value, "$") {
				parts := strings.SplitN(value[1:], ".", 2)
				index, err := strconv.Atoi(parts[0])
				if len(parts) != 2 || err != nil || index < 0 || index >= len(results) {
					fail("bad reference %q", value)
				}
				previous, ok := results[index].OK[parts[1]]
				if !ok {
					fail("reference %q: call %d has no field %s", value, index, parts[1])
				}
				value = previous
			}
			request[name] = value
		}
		timeout := 10.0
		if c.Timeout != nil {
			timeout = *c.Timeout
		}

		var r result
		if streaming[c.Method] {
			r = streamCall(conn, c, m, request, timeout)
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout*float64(time.Second)))
			var reply []byte
			options := []grpc.CallOption{grpc.ForceCodec(rawCodec{})}
			if c.WaitForReady {
				options = append(options, grpc.WaitForReady(true))
			}
			err := conn.Invoke(ctx, service+c.Method, encode(m.request, request), &reply, options...)
			cancel()
			if err == nil {
				r.OK = decode(m.response, reply)
			} else {
				r.Code, r.Details = codeName(err)
			}
		}
		results = append(results, r)
		printResult(r)
	}
}

func printResult(r result) {
	var line bytes.Buffer
	encoder := json.NewEncoder(&line)
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(r); err != nil {
		fail("encode result: %v", err)
	}
	os.Stdout.Write(line.Bytes())
}
