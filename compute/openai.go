package compute

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/compute/seal"
)

// Tonmesh's extensions of the OpenAI API.
const (
	// MaxPriceHeader caps the price of one request (nanoTON per 1M tokens,
	// commission included), as the body field "max_price" does.
	MaxPriceHeader = "X-Tonmesh-Max-Price"
	// ConfidentialHeader is "false" on answers from a worker without
	// hardware attestation, "true" otherwise.
	ConfidentialHeader = "X-Tonmesh-Confidential"
)

// maxRequestBody leaves room for the envelope around the request.
const maxRequestBody = seal.MaxEnvelopeSize - 64<<10

// openAIRequest is what the client node reads from an OpenAI request.
type openAIRequest struct {
	inferRequest
	includeUsage bool
}

// parseOpenAI reads an OpenAI request of kind from r: the fields the node
// needs, with tonmesh's max_price removed and max_tokens set.
func (s *Service) parseOpenAI(kind backend.Kind, w http.ResponseWriter, r *http.Request) (*openAIRequest, *Error) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		return nil, newError(codeBadRequest, fmt.Sprintf("request body: %v (at most %d bytes)", err, maxRequestBody))
	}
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&fields); err != nil || dec.More() || fields == nil {
		return nil, newError(codeBadRequest, "request body must be one JSON object (see the OpenAI API reference)")
	}
	q := &openAIRequest{inferRequest: inferRequest{kind: kind, maxPrice: s.cfg.MaxPrice}}
	if err := json.Unmarshal(fields["model"], &q.model); err != nil || q.model == "" {
		return nil, newError(codeBadRequest, `"model" is required: one of the models GET /v1/models lists`)
	}
	if v, ok := fields["stream"]; ok && json.Unmarshal(v, &q.stream) != nil {
		return nil, newError(codeBadRequest, `"stream" must be true or false`)
	}
	if v, ok := fields["stream_options"]; ok && string(v) != "null" {
		var so struct {
			IncludeUsage bool `json:"include_usage"`
		}
		if json.Unmarshal(v, &so) != nil {
			return nil, newError(codeBadRequest, `"stream_options" must be an object like {"include_usage": true}`)
		}
		q.includeUsage = so.IncludeUsage
	}
	for _, name := range []string{"max_tokens", "max_completion_tokens"} {
		if v, ok := fields[name]; ok && string(v) != "null" {
			if json.Unmarshal(v, &q.maxTokens) != nil || q.maxTokens <= 0 || q.maxTokens > 1<<20 {
				return nil, newError(codeBadRequest, fmt.Sprintf("%q must be a whole number from 1 to %d", name, 1<<20))
			}
		}
	}
	if q.maxTokens == 0 {
		q.maxTokens = s.cfg.MaxTokens
		mt, _ := json.Marshal(q.maxTokens)
		fields["max_tokens"] = mt
	}
	if cap, e := readMaxPrice(fields["max_price"], r.Header.Get(MaxPriceHeader)); e != nil {
		return nil, e
	} else if cap != nil {
		q.maxPrice = cap
	}
	delete(fields, "max_price")
	if q.body, err = json.Marshal(fields); err != nil {
		return nil, newError(codeBadRequest, err.Error())
	}
	if _, err := backend.ParseRequest(kind, q.body); err != nil {
		return nil, newError(codeBadRequest, err.Error())
	}
	return q, nil
}

// readMaxPrice reads the cap from the body field (a number or a decimal
// string) or else the header.
func readMaxPrice(field json.RawMessage, header string) (*big.Int, *Error) {
	v := strings.TrimSpace(header)
	if len(field) > 0 && string(field) != "null" {
		var str string
		if json.Unmarshal(field, &str) != nil {
			str = string(field)
		}
		v = str
	}
	if v == "" {
		return nil, nil
	}
	p, err := parsePrice(v)
	if err != nil {
		return nil, newError(codeBadRequest, "max_price: "+err.Error())
	}
	return p, nil
}

// writeOpenAIError answers in the OpenAI error shape.
func writeOpenAIError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(codeInternal, err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(errorBody(e))
}

type openAIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

func errorBody(e *Error) map[string]openAIError {
	return map[string]openAIError{"error": {Message: e.Message, Type: e.Type, Code: e.Code}}
}

// Cost is the price of a request in usage objects.
type Cost struct {
	NanoTON string `json:"nanoton"`
	TON     string `json:"ton"`
}

// usageJSON is OpenAI's usage object with tonmesh's cost.
type usageJSON struct {
	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	TotalTokens      int  `json:"total_tokens"`
	Cost             Cost `json:"cost"`
}

// tonmeshJSON describes who answered.
type tonmeshJSON struct {
	RequestID   string `json:"request_id"`
	Worker      string `json:"worker"`
	Proxy       string `json:"proxy"`
	Attestation string `json:"attestation"`
}

// folded accumulates streamed chunks into a non-streamed answer.
type folded struct {
	id, object string
	created    int64
	choices    []*foldedChoice
}

type foldedChoice struct {
	text, role, finish string
	hasFinish          bool
}

// streamChunk is the part of a streaming chunk that folding reads.
type streamChunk struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Choices []struct {
		Index int `json:"index"`
		Delta *struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"delta"`
		Text         string  `json:"text"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
}

func (f *folded) add(chunk json.RawMessage) error {
	var c streamChunk
	if err := json.Unmarshal(chunk, &c); err != nil {
		return fmt.Errorf("the worker sent a chunk that is not OpenAI JSON: %w", err)
	}
	if f.id == "" {
		f.id, f.created = c.ID, c.Created
	}
	for _, ch := range c.Choices {
		if ch.Index < 0 || ch.Index > 127 {
			return fmt.Errorf("the worker sent choice index %d", ch.Index)
		}
		for len(f.choices) <= ch.Index {
			f.choices = append(f.choices, &foldedChoice{})
		}
		fc := f.choices[ch.Index]
		if ch.Delta != nil {
			fc.text += ch.Delta.Content
			if ch.Delta.Role != "" {
				fc.role = ch.Delta.Role
			}
		}
		fc.text += ch.Text
		if ch.FinishReason != nil {
			fc.finish, fc.hasFinish = *ch.FinishReason, true
		}
	}
	return nil
}

// response builds the non-streamed answer.
func (f *folded) response(kind backend.Kind, model string, res *InferResult, created int64) map[string]any {
	choices := make([]map[string]any, 0, len(f.choices))
	for i, c := range f.choices {
		ch := map[string]any{"index": i, "finish_reason": nil}
		if c.hasFinish {
			ch["finish_reason"] = c.finish
		}
		if kind == backend.Chat {
			role := c.role
			if role == "" {
				role = "assistant"
			}
			ch["message"] = map[string]any{"role": role, "content": c.text}
		} else {
			ch["text"] = c.text
			ch["logprobs"] = nil
		}
		choices = append(choices, ch)
	}
	object, id := "chat.completion", "chatcmpl-"+res.RequestID
	if kind == backend.Completion {
		object, id = "text_completion", "cmpl-"+res.RequestID
	}
	if f.created != 0 {
		created = f.created
	}
	return map[string]any{
		"id": id, "object": object, "created": created, "model": model,
		"choices": choices, "usage": usageOf(res),
		"confidential": res.Confidential, "tonmesh": tonmeshOf(res),
	}
}
