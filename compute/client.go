package compute

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"github.com/tonmesh/tonmesh/compute/backend"
	"github.com/tonmesh/tonmesh/internal/apiutil"
)

// Client is the compute part of a node's API, for the CLI and scripts.
type Client struct{ c *apiutil.Client }

// NewClient wraps an API client.
func NewClient(c *apiutil.Client) *Client { return &Client{c: c} }

// Offers calls GET /api/v1/compute/offers.
func (c *Client) Offers(ctx context.Context) (*OffersView, error) {
	var v OffersView
	return &v, c.c.Get(ctx, "/api/v1/compute/offers", &v)
}

// Models calls GET /v1/models.
func (c *Client) Models(ctx context.Context) (*ModelList, error) {
	var v ModelList
	return &v, c.c.Get(ctx, "/v1/models", &v)
}

// WorkerStatus calls GET /api/v1/compute/worker.
func (c *Client) WorkerStatus(ctx context.Context) (*WorkerStatus, error) {
	var v WorkerStatus
	return &v, c.c.Get(ctx, "/api/v1/compute/worker", &v)
}

// ProxyStatus calls GET /api/v1/compute/proxy.
func (c *Client) ProxyStatus(ctx context.Context) (*ProxyStatus, error) {
	var v ProxyStatus
	return &v, c.c.Get(ctx, "/api/v1/compute/proxy", &v)
}

// chatRequest is the body Infer sends.
type chatRequest struct {
	Model         string              `json:"model"`
	Messages      []map[string]string `json:"messages"`
	Stream        bool                `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options,omitempty"`
	MaxPrice    string   `json:"max_price,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
}

// InferOptions are the optional parts of an inference request; the zero
// value asks for the node's defaults.
type InferOptions struct {
	// MaxPrice caps the price (nanoTON per 1M tokens, commission
	// included); nil: the node's compute.max_price.
	MaxPrice *big.Int
	// Seed fixes the worker's sampling: the same seed, prompt, model and
	// temperature give the same answer. nil: a random seed.
	Seed *int64
	// Temperature is the sampling temperature, 0 to 2 (0 always takes the
	// likeliest token). nil: the model's default.
	Temperature *float64
}

// resultChunk is the part of an answer (the final usage chunk, or the whole
// non-streamed answer) that Infer reads.
type resultChunk struct {
	Choices []struct {
		Delta *struct {
			Content string `json:"content"`
		} `json:"delta"`
	} `json:"choices"`
	Usage        *usageJSON   `json:"usage"`
	Confidential *bool        `json:"confidential"`
	Tonmesh      *tonmeshJSON `json:"tonmesh"`
	Error        *openAIError `json:"error"`
}

func (r *resultChunk) result() (*InferResult, error) {
	if r.Usage == nil || r.Confidential == nil || r.Tonmesh == nil {
		return nil, errors.New("the answer carries no usage: is this a tonmesh node?")
	}
	return &InferResult{RequestID: r.Tonmesh.RequestID, Cost: r.Usage.Cost.NanoTON, Confidential: *r.Confidential,
		Attestation: r.Tonmesh.Attestation, Worker: r.Tonmesh.Worker, Proxy: r.Tonmesh.Proxy,
		Usage: backend.Usage{PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens, TotalTokens: r.Usage.TotalTokens}}, nil
}

// Infer sends prompt as one user message to model through the node,
// streaming the answer's text to onToken (may be nil).
func (c *Client) Infer(ctx context.Context, model, prompt string, opts InferOptions, onToken func(string)) (*InferResult, error) {
	req := chatRequest{Model: model, Messages: []map[string]string{{"role": "user", "content": prompt}},
		Seed: opts.Seed, Temperature: opts.Temperature}
	if opts.MaxPrice != nil {
		req.MaxPrice = opts.MaxPrice.String()
	}
	if onToken == nil {
		onToken = func(string) {}
	}
	req.Stream = true
	req.StreamOptions = &struct {
		IncludeUsage bool `json:"include_usage"`
	}{true}
	return c.stream(ctx, req, onToken)
}

func (c *Client) stream(ctx context.Context, req chatRequest, onToken func(string)) (*InferResult, error) {
	body, _ := json.Marshal(req)
	resp, err := c.c.Stream(ctx, http.MethodPost, "/v1/chat/completions", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var final *InferResult
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		if data == "[DONE]" {
			if final == nil {
				return nil, errors.New("the stream ended without usage")
			}
			return final, nil
		}
		var ch resultChunk
		if err := json.Unmarshal([]byte(data), &ch); err != nil {
			return nil, fmt.Errorf("the node sent a chunk that is not JSON: %w", err)
		}
		if ch.Error != nil {
			// Headers were sent before the failure: the code says what the status would have been.
			return nil, &apiutil.APIError{Status: newError(ch.Error.Code, "").Status, Code: ch.Error.Code, Message: ch.Error.Message}
		}
		for _, choice := range ch.Choices {
			if choice.Delta != nil && choice.Delta.Content != "" {
				onToken(choice.Delta.Content)
			}
		}
		if ch.Usage != nil {
			if final, err = ch.result(); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	return nil, errors.New("the stream ended before [DONE]: the answer is incomplete")
}
