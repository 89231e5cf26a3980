package backend

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// readStream reads an OpenAI event stream: it emits every chunk that has
// choices (with a usage field removed), keeps the usage, stops at
// "[DONE]", and fails on an error event.
func readStream(ctx context.Context, body io.Reader, emit func(json.RawMessage) error) (Usage, error) {
	sr := newSSEReader(body, maxEvent)
	var usage *Usage
	done := false
	for !done {
		data, err := sr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return Usage{}, fmt.Errorf("backend: openai: request cancelled: %w", ctx.Err())
			}
			return Usage{}, fmt.Errorf("backend: openai: the upstream stream broke: %w", err)
		}
		if string(bytes.TrimSpace(data)) == "[DONE]" {
			done = true
			continue
		}
		chunk, u, err := splitChunk(data)
		if err != nil {
			return Usage{}, err
		}
		if u != nil {
			usage = u
		}
		if chunk != nil {
			if err := emit(chunk); err != nil {
				return Usage{}, err
			}
		}
	}
	if usage == nil {
		if !done {
			return Usage{}, ErrTruncated
		}
		return Usage{}, ErrNoUsage
	}
	return *usage, nil
}

// splitChunk parses one stream event. It returns the chunk to emit (nil
// for a usage-only chunk or one without choices), the usage it carried
// (nil when none), or the error the event reported.
func splitChunk(data []byte) (json.RawMessage, *Usage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, nil, fmt.Errorf("backend: openai: the upstream stream sent an event that is not a JSON object: %.80q", data)
	}
	if raw, ok := m["error"]; ok && !isNull(raw) {
		e := parseUpstreamError(0, data)
		return nil, nil, e
	}
	var usage *Usage
	if raw, ok := m["usage"]; ok && !isNull(raw) {
		var u Usage
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, nil, fmt.Errorf("backend: openai: the upstream usage does not decode: %w", err)
		}
		if u.PromptTokens < 0 || u.CompletionTokens < 0 || u.TotalTokens < 0 {
			return nil, nil, fmt.Errorf("backend: openai: the upstream usage has negative counts: %+v", u)
		}
		if u.TotalTokens == 0 {
			u.TotalTokens = u.PromptTokens + u.CompletionTokens
		}
		usage = &u
	}
	var choices []json.RawMessage
	if raw, ok := m["choices"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &choices); err != nil {
			return nil, nil, fmt.Errorf("backend: openai: the upstream chunk's choices is not an array: %w", err)
		}
	}
	if len(choices) == 0 {
		return nil, usage, nil
	}
	if usage == nil {
		return json.RawMessage(data), nil, nil
	}
	delete(m, "usage")
	chunk, err := marshalRaw(m)
	if err != nil {
		return nil, nil, err
	}
	return chunk, usage, nil
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// readUpstreamError turns a non-200 answer into an *UpstreamError.
func readUpstreamError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return parseUpstreamError(resp.StatusCode, body)
}

// parseUpstreamError reads the error shapes servers use:
// {"error": {"message", "type", "code"}} (OpenAI, llama.cpp, Ollama),
// {"error": "message"}, and {"object": "error", "message", "type", "code"}
// (vLLM, SGLang). Anything else becomes the body's first bytes.
func parseUpstreamError(status int, body []byte) *UpstreamError {
	type fields struct {
		Message string          `json:"message"`
		Type    string          `json:"type"`
		Code    json.RawMessage `json:"code"`
	}
	var top struct {
		Error json.RawMessage `json:"error"`
		fields
	}
	e := &UpstreamError{Status: status}
	if json.Unmarshal(body, &top) != nil {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 300)]))
		return e
	}
	f := top.fields
	if len(top.Error) > 0 && !isNull(top.Error) {
		var s string
		if json.Unmarshal(top.Error, &s) == nil {
			f = fields{Message: s}
		} else {
			_ = json.Unmarshal(top.Error, &f)
		}
	}
	e.Message, e.Type = f.Message, f.Type
	if len(f.Code) > 0 && !isNull(f.Code) {
		var s string
		if json.Unmarshal(f.Code, &s) == nil {
			e.Code = s
		} else {
			e.Code = string(f.Code)
		}
	}
	return e
}
