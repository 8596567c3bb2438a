"""A Python gRPC client of muvtuber.chatbot.v2.ChatbotService, as the old
service's Python users have, on grpcio (gRPC's C core: a third gRPC
implementation beside the server's Connect and the grpc-js tests).

It needs no generated code: messages are encoded by hand (every field of the
contract is a string), which also pins the exact field numbers on the wire.

Usage: python3 chatbot_client.py HOST:PORT SCRIPT_JSON
SCRIPT_JSON is a list of calls: {"method": "NewSession", "request": {...}},
with an optional "timeout" in seconds (default 10), and for ChatStream an
optional "cancel_after": cancel the call once that many messages arrived.
A request value "$N.field" is replaced by that field of call N's response.
Prints one JSON line per call: {"ok": {...}} or {"code": "NOT_FOUND", "details": "..."};
for ChatStream {"stream": [{"sentence"|"response": ..., "at": ms}, ...], "code": "OK"|..., "details": ...},
"at" being when the message arrived (ms since the epoch, the clock the fake upstream's eventTimes use).
"""
import json
import sys
import time

import grpc

SERVICE = "/muvtuber.chatbot.v2.ChatbotService/"
# method -> (request fields by name -> number, response fields by number -> name)
METHODS = {
    "NewSession": ({"config": 1, "initial_prompt": 2}, {1: "session_id", 2: "initial_response"}),
    "Chat": ({"session_id": 1, "prompt": 2}, {2: "response"}),
    "DeleteSession": ({"session_id": 1}, {1: "session_id"}),
    "ChatStream": ({"session_id": 1, "prompt": 2}, {1: "sentence", 2: "response"}),
}
STREAMING = {"ChatStream"}


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode(fields, request):
    out = b""
    for name, value in request.items():
        data = value.encode("utf-8")
        out += varint((fields[name] << 3) | 2) + varint(len(data)) + data
    return out


def read_varint(data, i):
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def decode(names, data):
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire != 2:
            raise ValueError(f"unexpected wire type {wire} for field {number}")
        length, i = read_varint(data, i)
        out[names.get(number, f"unknown_{number}")] = data[i:i + length].decode("utf-8")
        i += length
    return out


def stream_call(channel, call, fields, names, request):
    """A server-streaming call: every message with its arrival time, then the status it ended with."""
    stub = channel.unary_stream(
        SERVICE + call["method"],
        request_serializer=lambda r: encode(fields, r),
        response_deserializer=lambda b: decode(names, b),
    )
    messages = []
    responses = stub(request, timeout=call.get("timeout", 10))
    try:
        for message in responses:
            message["at"] = time.time() * 1000
            messages.append(message)
            if len(messages) == call.get("cancel_after"):
                responses.cancel()
        return {"stream": messages, "code": "OK"}
    except grpc.RpcError as error:
        return {"stream": messages, "code": error.code().name, "details": error.details()}


def main():
    target, script = sys.argv[1], json.loads(sys.argv[2])
    results = []
    with grpc.insecure_channel(target) as channel:
        for call in script:
            fields, names = METHODS[call["method"]]
            request = {}
            for name, value in call["request"].items():
                if isinstance(value, str) and value.startswith("$"):
                    index, field = value[1:].split(".", 1)
                    value = results[int(index)]["ok"][field]
                request[name] = value
            if call["method"] in STREAMING:
                results.append(stream_call(channel, call, fields, names, request))
                print(json.dumps(results[-1], ensure_ascii=False), flush=True)
                continue
            stub = channel.unary_unary(
                SERVICE + call["method"],
                request_serializer=lambda r, fields=fields: encode(fields, r),
                response_deserializer=lambda b, names=names: decode(names, b),
            )
            try:
                results.append({"ok": stub(request, timeout=call.get("timeout", 10))})
            except grpc.RpcError as error:
                results.append({"code": error.code().name, "details": error.details()})
            print(json.dumps(results[-1], ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
