package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gchatkit/gchat"
	"github.com/gchatkit/gchat/card"
)

const sendUsage = `Usage: gchat send [flags] [TEXT...]

Send one message to a Google Chat incoming webhook. The text comes from the
arguments, or from standard input when there are none and neither --card nor
--message is given. Long text is split into a head message and replies in its
thread, within Google's limits. Flags may come after the text too; "--"
ends them, for a text that starts with a dash.

The webhook URL comes from --webhook, --webhook-file or $GCHAT_WEBHOOK. It is a
secret: gchat never prints it unmasked.

Exit codes: 0 sent; 1 bad usage or invalid input (nothing sent); 2 rejected by
Google Chat; 3 gave up after retries, or interrupted.

Flags:
`

type sendFlags struct {
	webhook, webhookFile string
	cardFile, msgFile    string
	thread, replyOption  string
	messageID, requestID string
	timeout              time.Duration
	retries              int
	jsonOut, dryRun      bool
}

func runSend(ctx context.Context, args []string, env environment) error {
	var f sendFlags
	fs := flag.NewFlagSet("gchat send", flag.ContinueOnError)
	fs.StringVar(&f.webhook, "webhook", "", "webhook `URL` (default $GCHAT_WEBHOOK)")
	fs.StringVar(&f.webhookFile, "webhook-file", "", "read the webhook URL from `PATH`")
	fs.StringVar(&f.cardFile, "card", "", "add cards from `FILE`: one card or a cardsV2 array (- for stdin)")
	fs.StringVar(&f.msgFile, "message", "", "start from a whole Message JSON in `FILE` (- for stdin)")
	fs.StringVar(&f.thread, "thread", "", "thread `KEY` to start or reply to, or a thread name spaces/S/threads/T")
	fs.StringVar(&f.replyOption, "reply-option", "", "`MODE`: new, fallback or fail (default fallback when a thread is set)")
	fs.StringVar(&f.messageID, "message-id", "", "custom message `ID` (client-…)")
	fs.StringVar(&f.requestID, "request-id", "", "request `ID` for idempotency (default random, the same on every retry)")
	fs.DurationVar(&f.timeout, "timeout", gchat.DefaultTimeout, "timeout of each attempt")
	fs.IntVar(&f.retries, "retries", 4, "retries after the first attempt on 429, 5xx and network errors (0: one attempt)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the response as JSON")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the requests that would be sent (URL masked) and send nothing")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), sendUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, env); err != nil {
		return err
	}
	if f.retries < 0 {
		return usageError("--retries %d: want 0 or more", f.retries)
	}
	if f.timeout <= 0 {
		return usageError("--timeout %v: want a positive duration", f.timeout)
	}
	hook, err := f.loadWebhook(env)
	if err != nil {
		return err
	}
	msg, err := f.loadMessage(fs.Args(), env)
	if err != nil {
		return err
	}
	opts, err := f.options(msg)
	if err != nil {
		return err
	}
	// Warnings only: errors are Send's to judge, after it has fitted the
	// message (a card too large alone is trimmed, not refused).
	for _, p := range msg.Check().Warnings() {
		fmt.Fprintln(env.stderr, "gchat: warning:", p)
	}

	client := &gchat.Client{
		Timeout: f.timeout,
		Retry:   gchat.RetryPolicy{MaxAttempts: f.retries + 1},
		Pace:    -1, // one message: parts of it are paced by Google's answers, not guessed
		Logger:  slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if f.dryRun {
		client.HTTPClient = &http.Client{Transport: &dryRun{out: env.stdout}}
		client.Logger = nil
	}
	resp, err := client.Send(ctx, hook, msg, opts)
	if err != nil {
		return sendError(err)
	}
	if f.dryRun {
		return nil
	}
	return printResponse(env.stdout, resp, f.jsonOut)
}

func (f *sendFlags) loadWebhook(env environment) (*gchat.Webhook, error) {
	raw, from := f.webhook, "--webhook"
	if f.webhookFile != "" {
		if raw != "" {
			return nil, usageError("use one of --webhook and --webhook-file")
		}
		data, err := os.ReadFile(f.webhookFile)
		if err != nil {
			return nil, usageError("--webhook-file: %w", err)
		}
		raw, from = strings.TrimSpace(string(data)), "--webhook-file "+f.webhookFile
	}
	if raw == "" {
		raw, from = env.getenv("GCHAT_WEBHOOK"), "$GCHAT_WEBHOOK"
	}
	if raw == "" {
		return nil, usageError("no webhook: give --webhook URL, --webhook-file PATH or set GCHAT_WEBHOOK")
	}
	hook, err := gchat.ParseWebhook(raw)
	if err != nil {
		return nil, usageError("%s: %w", from, err)
	}
	return hook, nil
}

// loadMessage builds the message from --message, --card and the text.
func (f *sendFlags) loadMessage(args []string, env environment) (*gchat.Message, error) {
	if f.msgFile == "-" && f.cardFile == "-" {
		return nil, usageError("--message and --card cannot both read standard input")
	}
	msg := &gchat.Message{}
	if f.msgFile != "" {
		data, err := readInput(f.msgFile, env)
		if err != nil {
			return nil, usageError("--message: %w", err)
		}
		if err := decodeStrict(data, msg); err != nil {
			return nil, usageError("--message %s: %w", f.msgFile, err)
		}
	}
	if f.cardFile != "" {
		data, err := readInput(f.cardFile, env)
		if err != nil {
			return nil, usageError("--card: %w", err)
		}
		cards, err := decodeCards(data)
		if err != nil {
			return nil, usageError("--card %s: %w", f.cardFile, err)
		}
		msg.CardsV2 = append(msg.CardsV2, cards...)
	}
	switch {
	case len(args) > 0:
		msg.Text = strings.Join(args, " ")
	case f.msgFile == "" && f.cardFile == "":
		data, err := io.ReadAll(env.stdin)
		if err != nil {
			return nil, usageError("read text from standard input: %w", err)
		}
		msg.Text = strings.TrimRight(string(data), "\n")
	}
	if f.thread != "" {
		if strings.HasPrefix(f.thread, "spaces/") {
			msg.Thread = &gchat.Thread{Name: f.thread}
		} else {
			msg.Thread = &gchat.Thread{ThreadKey: f.thread}
		}
	}
	return msg, nil
}

func (f *sendFlags) options(msg *gchat.Message) (gchat.Options, error) {
	o := gchat.Options{MessageID: f.messageID, RequestID: f.requestID}
	switch f.replyOption {
	case "":
	case "new":
		o.Reply = gchat.ReplyNewThread
	case "fallback":
		o.Reply = gchat.ReplyFallbackToNewThread
	case "fail":
		o.Reply = gchat.ReplyOrFail
	default:
		return o, usageError("--reply-option %q: want new, fallback or fail", f.replyOption)
	}
	if o.MessageID != "" {
		if err := gchat.CheckMessageID(o.MessageID); err != nil {
			return o, usageError("--message-id: %w", err)
		}
	}
	return o, nil
}

func readInput(name string, env environment) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(env.stdin)
	}
	return os.ReadFile(name)
}

// decodeStrict decodes one JSON value and refuses unknown fields, as Google does.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(data, err)
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// decodeCards reads one card (a Card, or a CardWithID) or a cardsV2 array.
func decodeCards(data []byte) ([]card.CardWithID, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var cards []card.CardWithID
		if err := decodeStrict(data, &cards); err != nil {
			return nil, err
		}
		return cards, nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, describeJSONError(data, err)
	}
	if _, ok := probe["card"]; ok {
		var c card.CardWithID
		if err := decodeStrict(data, &c); err != nil {
			return nil, err
		}
		return []card.CardWithID{c}, nil
	}
	var c card.Card
	if err := decodeStrict(data, &c); err != nil {
		return nil, err
	}
	return []card.CardWithID{{Card: c}}, nil
}

// describeJSONError adds the line and column to a JSON syntax or type error.
func describeJSONError(data []byte, err error) error {
	var offset int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		offset = se.Offset
	case errors.As(err, &te):
		offset = te.Offset
	}
	if offset <= 0 || offset > int64(len(data)) {
		return err
	}
	at := data[:offset-1] // the offending byte is the last one read
	line := 1 + bytes.Count(at, []byte("\n"))
	col := len(at) - bytes.LastIndexByte(at, '\n')
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// sendError maps a send failure to its exit code.
func sendError(err error) error {
	code := exitGaveUp
	var ve *gchat.ValidationError
	var ae *gchat.APIError
	switch {
	case errors.As(err, &ve):
		code = exitUsage
	case errors.As(err, &ae) && !ae.Temporary():
		code = exitRejected
	}
	return &exitError{code: code, err: err}
}

func printResponse(w io.Writer, resp *gchat.Response, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(resp)
	}
	for i, r := range append([]*gchat.Response{resp}, resp.Continuations...) {
		prefix := ""
		if len(resp.Continuations) > 0 {
			prefix = fmt.Sprintf("part %d: ", i+1)
		}
		fmt.Fprintf(w, "%smessage %s\n", prefix, r.Name)
		fmt.Fprintf(w, "%sthread  %s\n", prefix, r.Thread.Name)
	}
	return nil
}

// dryRun is a transport that prints each request, URL masked, and answers it
// as Google would, so that --dry-run shows exactly what the client sends.
type dryRun struct {
	out io.Writer
	n   int
}

func (d *dryRun) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	d.n++
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(body)
	}
	fmt.Fprintf(d.out, "%s %s\nContent-Type: %s\n\n%s\n\n", req.Method, gchat.RedactURL(req.URL.String()), req.Header.Get("Content-Type"), pretty.Bytes())
	answer := fmt.Sprintf(`{"name":"spaces/DRYRUN/messages/dry-run-%d","thread":{"name":"spaces/DRYRUN/threads/dry-run"}}`, d.n)
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"application/json; charset=UTF-8"}},
		Body:       io.NopCloser(strings.NewReader(answer)),
		Request:    req,
	}, nil
}
