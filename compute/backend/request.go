package backend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Request limits (also what the client-facing API enforces).
const (
	// MaxStop is the most stop sequences a request may give (OpenAI's limit).
	MaxStop = 4
)

// roles a chat message may have.
var roles = []string{"system", "developer", "user", "assistant", "tool", "function"}

// wireRequest is the part of an OpenAI request ParseRequest reads. Fields
// whose JSON type varies (content, prompt, stop) are raw and read by hand.
type wireRequest struct {
	Model               *string           `json:"model"`
	Messages            []wireMessage     `json:"messages"`
	Prompt              json.RawMessage   `json:"prompt"`
	MaxTokens           *int64            `json:"max_tokens"`
	MaxCompletionTokens *int64            `json:"max_completion_tokens"`
	Temperature         *float64          `json:"temperature"`
	TopP                *float64          `json:"top_p"`
	Seed                *int64            `json:"seed"`
	Stop                json.RawMessage   `json:"stop"`
	N                   *int64            `json:"n"`
	Stream              *bool             `json:"stream"`
	StreamOptions       *wireStreamOption `json:"stream_options"`
}

type wireMessage struct {
	Role    *string         `json:"role"`
	Content json.RawMessage `json:"content"`
}

type wireStreamOption struct {
	IncludeUsage *bool `json:"include_usage"`
}

type contentPart struct {
	Type string  `json:"type"`
	Text *string `json:"text"`
}

// ParseRequest parses and validates the JSON body of an OpenAI request to
// the endpoint kind. Unknown fields are ignored (OpenAI clients send many);
// the fields a backend uses are checked, and errors name the field as the
// OpenAI API does ("messages[1].role", "max_tokens"). The returned Request
// keeps body as its Body.
//
// Message content may be a string or an array of content parts; the text
// parts are joined into Message.Content, and other parts (images, audio)
// are left to HTTP backends, which receive the body as it is. A completion
// prompt is a string or an array holding one string. n, when given, must
// be 1.
func ParseRequest(kind Kind, body []byte) (*Request, error) {
	if kind != Chat && kind != Completion {
		return nil, fmt.Errorf("backend: request kind %q is unknown (want %q or %q)", kind, Chat, Completion)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("request body must be a JSON object")
	}
	var w wireRequest
	if err := json.Unmarshal(body, &w); err != nil {
		return nil, jsonError(err)
	}
	req := &Request{Kind: kind, Body: body}
	if w.Model == nil || *w.Model == "" {
		return nil, errors.New("model is required")
	}
	req.Model = *w.Model
	var err error
	if kind == Chat {
		if w.Prompt != nil {
			return nil, errors.New("prompt is not a chat completions field: send messages (or use /v1/completions)")
		}
		req.Messages, err = parseMessages(w.Messages)
	} else {
		if w.Messages != nil {
			return nil, errors.New("messages is not a completions field: send prompt (or use /v1/chat/completions)")
		}
		req.Prompt, err = parsePrompt(w.Prompt)
	}
	if err != nil {
		return nil, err
	}
	if err := parseSampling(&w, req); err != nil {
		return nil, err
	}
	return req, nil
}

func parseMessages(ms []wireMessage) ([]Message, error) {
	if len(ms) == 0 {
		return nil, errors.New("messages is required and must not be empty")
	}
	out := make([]Message, len(ms))
	for i, m := range ms {
		if m.Role == nil || *m.Role == "" {
			return nil, fmt.Errorf("messages[%d].role is required", i)
		}
		if !slices.Contains(roles, *m.Role) {
			return nil, fmt.Errorf("messages[%d].role %q is not one of %s", i, *m.Role, strings.Join(roles, ", "))
		}
		text, err := messageText(m, i)
		if err != nil {
			return nil, err
		}
		out[i] = Message{Role: *m.Role, Content: text}
	}
	return out, nil
}

// messageText reads a message's content: a string, an array of content
// parts, or null (assistant and tool messages that carry tool calls).
func messageText(m wireMessage, i int) (string, error) {
	raw := bytes.TrimSpace(m.Content)
	switch {
	case len(raw) == 0 || bytes.Equal(raw, []byte("null")):
		if *m.Role == "assistant" || *m.Role == "tool" || *m.Role == "function" {
			return "", nil
		}
		return "", fmt.Errorf("messages[%d].content is required", i)
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("messages[%d].content must be a string or an array of content parts", i)
		}
		return s, nil
	case raw[0] == '[':
		var parts []contentPart
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", fmt.Errorf("messages[%d].content must be a string or an array of content parts (objects with a type)", i)
		}
		var sb strings.Builder
		for j, p := range parts {
			switch {
			case p.Type == "":
				return "", fmt.Errorf("messages[%d].content[%d].type is required", i, j)
			case p.Type == "text" && p.Text == nil:
				return "", fmt.Errorf("messages[%d].content[%d].text is required for a text part", i, j)
			case p.Type == "text":
				sb.WriteString(*p.Text)
			}
		}
		return sb.String(), nil
	}
	return "", fmt.Errorf("messages[%d].content must be a string or an array of content parts", i)
}

func parsePrompt(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", errors.New("prompt is required")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", errors.New("prompt must be a string")
		}
		return s, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", errors.New("prompt must be a string or an array of one string (token arrays are not supported)")
	}
	if len(list) != 1 {
		return "", fmt.Errorf("prompt holds %d strings: send one prompt per request", len(list))
	}
	return list[0], nil
}

func parseSampling(w *wireRequest, req *Request) error {
	max := w.MaxTokens
	name := "max_tokens"
	if w.MaxCompletionTokens != nil {
		max, name = w.MaxCompletionTokens, "max_completion_tokens"
	}
	if max != nil {
		if *max < 1 {
			return fmt.Errorf("%s must be ≥ 1, got %d", name, *max)
		}
		if *max > math.MaxInt32 {
			return fmt.Errorf("%s must be at most %d, got %d", name, math.MaxInt32, *max)
		}
		req.MaxTokens = int(*max)
	}
	if t := w.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return fmt.Errorf("temperature must be between 0 and 2, got %g", *t)
		}
		req.Temperature = t
	}
	if p := w.TopP; p != nil {
		if *p < 0 || *p > 1 {
			return fmt.Errorf("top_p must be between 0 and 1, got %g", *p)
		}
		req.TopP = p
	}
	req.Seed = w.Seed
	if w.N != nil && *w.N != 1 {
		return fmt.Errorf("n must be 1 (one choice per request), got %d", *w.N)
	}
	stop, err := parseStop(w.Stop)
	if err != nil {
		return err
	}
	req.Stop = stop
	return nil
}

func parseStop(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("stop must be a string or an array of strings")
		}
		list = []string{s}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("stop must be a string or an array of strings")
	}
	if len(list) > MaxStop {
		return nil, fmt.Errorf("stop holds %d sequences, at most %d are allowed", len(list), MaxStop)
	}
	for i, s := range list {
		if s == "" {
			return nil, fmt.Errorf("stop[%d] is empty", i)
		}
	}
	return list, nil
}

// jsonError rephrases encoding/json's errors in terms of the request's
// fields.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("%s must be %s, not a JSON %s", te.Field, jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("request body is not valid JSON (at byte %d): %v", se.Offset, se)
	}
	return fmt.Errorf("request body does not decode: %v", err)
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32":
		return "an integer"
	case "float64", "float32":
		return "a number"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + goKind
}
