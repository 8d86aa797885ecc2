package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Client is a connection to a daemon's control socket; safe for concurrent use (calls
// are serialised).
type Client struct {
	mu   sync.Mutex
	conn net.Conn
	rd   *bufio.Reader
}

// RemoteError is a failure the daemon reported.
type RemoteError struct {
	Msg      string
	CodeName string
	Hint     []string
}

func (e *RemoteError) Error() string { return e.Msg }

// Dial connects to the first of paths that accepts.
func Dial(ctx context.Context, paths []string) (*Client, error) {
	var d net.Dialer
	var first error
	for _, p := range paths {
		conn, err := d.DialContext(ctx, "unix", p)
		if err == nil {
			return &Client{conn: conn, rd: bufio.NewReader(conn)}, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, fmt.Errorf("connect to the mount's daemon: %w", first)
}

// Call sends req and decodes the result into out (which may be nil).
func (c *Client) Call(ctx context.Context, req Request, out any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if dl, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(dl)
		defer c.conn.SetDeadline(time.Time{})
	}
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	line, err := c.rd.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	return decode(line, out)
}

// decode turns one response line into out or a *RemoteError.
func decode(line []byte, out any) error {
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return fmt.Errorf("control socket: malformed response: %w", err)
	}
	if resp.Error != "" {
		return &RemoteError{Msg: resp.Error, CodeName: resp.Code, Hint: resp.Hints}
	}
	if out == nil || len(resp.Result) == 0 {
		return nil
	}
	return json.Unmarshal(resp.Result, out)
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// IsCode reports whether err is a RemoteError with the given code.
func IsCode(err error, code string) bool {
	var re *RemoteError
	return errors.As(err, &re) && re.CodeName == code
}
