package backend

import (
	"strings"
	"testing"
)

func TestParseChatRequest(t *testing.T) {
	body := []byte(`{
		"model": "stories260K",
		"messages": [
			{"role": "system", "content": "be brief"},
			{"role": "user", "content": [{"type": "text", "text": "Once "}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "upon"}]},
			{"role": "assistant", "content": null, "tool_calls": []}
		],
		"max_tokens": 64, "temperature": 0.5, "top_p": 0.9, "seed": 42, "stop": "\n",
		"logprobs": false, "user": "u-1", "frequency_penalty": 0, "n": 1,
		"stream": true, "stream_options": {"include_usage": true}
	}`)
	req, err := ParseRequest(Chat, body)
	if err != nil {
		t.Fatalf("ParseRequest: %v", err)
	}
	if req.Kind != Chat || req.Model != "stories260K" || string(req.Body) != string(body) {
		t.Fatalf("kind/model/body = %v %q %d bytes", req.Kind, req.Model, len(req.Body))
	}
	want := []Message{{"system", "be brief"}, {"user", "Once upon"}, {"assistant", ""}}
	if len(req.Messages) != len(want) {
		t.Fatalf("messages = %+v, want %+v", req.Messages, want)
	}
	for i := range want {
		if req.Messages[i] != want[i] {
			t.Fatalf("messages[%d] = %+v, want %+v", i, req.Messages[i], want[i])
		}
	}
	if req.MaxTokens != 64 || *req.Temperature != 0.5 || *req.TopP != 0.9 || *req.Seed != 42 {
		t.Fatalf("sampling = %d %v %v %v", req.MaxTokens, *req.Temperature, *req.TopP, *req.Seed)
	}
	if len(req.Stop) != 1 || req.Stop[0] != "\n" {
		t.Fatalf("stop = %q", req.Stop)
	}
}

func TestParseCompletionRequest(t *testing.T) {
	req, err := ParseRequest(Completion, []byte(`{"model":"m","prompt":["Once upon"],"max_completion_tokens":5,"stop":["a","b"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Prompt != "Once upon" || req.MaxTokens != 5 || len(req.Stop) != 2 {
		t.Fatalf("parsed %+v", req)
	}
	if req.Temperature != nil || req.TopP != nil || req.Seed != nil {
		t.Fatal("absent sampling fields are not nil")
	}
	req, err = ParseRequest(Completion, []byte(`{"model":"m","prompt":"hi"}`))
	if err != nil || req.Prompt != "hi" || req.MaxTokens != 0 {
		t.Fatalf("ParseRequest = %+v, %v", req, err)
	}
}

func TestParseRequestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		kind Kind
		body string
		want string
	}{
		{Chat, `{"messages":[{"role":"user","content":"hi"}]}`, "model is required"},
		{Chat, `{"model":"m"}`, "messages is required"},
		{Chat, `{"model":"m","messages":[]}`, "messages is required"},
		{Chat, `{"model":"m","messages":[{"role":"robot","content":"hi"}]}`, `messages[0].role "robot" is not one of`},
		{Chat, `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role is required"},
		{Chat, `{"model":"m","messages":[{"role":"user"}]}`, "messages[0].content is required"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content must be a string or an array"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]}`, "messages[0].content[0].type is required"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]}`, "messages[0].content[0].text is required"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0}`, "max_tokens must be ≥ 1"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":-3}`, "max_completion_tokens must be ≥ 1"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}`, "max_tokens must be an integer"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":3}`, "temperature must be between 0 and 2"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"top_p":1.5}`, "top_p must be between 0 and 1"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"n":2}`, "n must be 1"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":["a","b","c","d","e"]}`, "stop holds 5 sequences"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"stop":7}`, "stop must be a string or an array"},
		{Chat, `{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"}`, "stream must be a boolean"},
		{Chat, `{"model":5,"messages":[{"role":"user","content":"hi"}]}`, "model must be a string"},
		{Chat, `{"model":"m","prompt":"hi"}`, "prompt is not a chat completions field"},
		{Completion, `{"model":"m"}`, "prompt is required"},
		{Completion, `{"model":"m","prompt":["a","b"]}`, "prompt holds 2 strings"},
		{Completion, `{"model":"m","prompt":[1,2,3]}`, "token arrays are not supported"},
		{Completion, `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "messages is not a completions field"},
		{Chat, `[1,2]`, "must be a JSON object"},
		{Chat, `{"model":"m",`, "not valid JSON"},
		{Chat, ``, "must be a JSON object"},
		{"embeddings", `{"model":"m"}`, "kind"},
	}
	for _, tc := range cases {
		_, err := ParseRequest(tc.kind, []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRequest(%s, %s) = %v, want an error containing %q", tc.kind, tc.body, err, tc.want)
		}
	}
}
