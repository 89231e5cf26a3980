// Package apiutil holds the few helpers every HTTP handler of tonmesh's
// local API shares, so that all services answer in one shape: JSON bodies,
// and errors as {"error": {"message", "code"}} whose message says what to fix.
package apiutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// MaxBody is the largest JSON request body a handler reads.
const MaxBody = 1 << 20

// ErrorBody is the JSON shape of every API error.
type ErrorBody struct {
	Error struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// WriteError answers with status and a JSON error.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	var body ErrorBody
	body.Error.Message = message
	body.Error.Code = code
	WriteJSON(w, status, body)
}

// BadRequest answers 400 with message.
func BadRequest(w http.ResponseWriter, message string) {
	WriteError(w, http.StatusBadRequest, "bad_request", message)
}

// WriteJSON answers with status and v as indented JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// DecodeJSON reads a JSON request body into v strictly: unknown fields,
// trailing data and bodies over MaxBody are errors that say what was wrong.
// On error it has already answered 400.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("unexpected data after the JSON object")
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body: send a JSON object")
		}
		BadRequest(w, fmt.Sprintf("request body: %v", err))
		return false
	}
	return true
}
