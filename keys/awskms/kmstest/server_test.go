package kmstest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/ezfs/ezfs/keys/awskms/kmstest"
)

var ec = map[string]string{"ezfs:volume": "v1", "ezfs:key": "logs", "ezfs:version": "1"}

// client returns an SDK client for srv with static credentials and no retries.
func client(t *testing.T, srv *kmstest.Server, region string) *kms.Client {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return kms.New(kms.Options{
		Region:           region,
		BaseEndpoint:     aws.String(srv.URL()),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestKeysAndAliases(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	ck, err := c.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(ck.KeyMetadata.Arn)
	if !strings.HasPrefix(arn, "arn:aws:kms:us-east-1:111122223333:key/") || ck.KeyMetadata.KeyState != types.KeyStateEnabled {
		t.Fatalf("CreateKey = %+v", ck.KeyMetadata)
	}
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: ck.KeyMetadata.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/a"), TargetKeyId: ck.KeyMetadata.KeyId})
	wantCode(t, err, "AlreadyExistsException")
	for _, id := range []string{arn, aws.ToString(ck.KeyMetadata.KeyId), "alias/a", kmstest.AliasARN("alias/a")} {
		dk, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if err != nil || aws.ToString(dk.KeyMetadata.Arn) != arn || dk.KeyMetadata.KeySpec != types.KeySpecSymmetricDefault {
			t.Errorf("DescribeKey(%s) = %+v, %v", id, dk, err)
		}
	}
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/none")})
	wantCode(t, err, "NotFoundException")
}

func TestCryptography(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	arn, other := srv.CreateKey("a"), srv.CreateKey("b")
	plain := bytes.Repeat([]byte{7}, 32)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: plain, EncryptionContext: ec})
	if err != nil || bytes.Contains(enc.CiphertextBlob, plain) || aws.ToString(enc.KeyId) != arn {
		t.Fatalf("Encrypt = %+v, %v", enc, err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, plain) || aws.ToString(dec.KeyId) != arn {
		t.Fatalf("Decrypt = %+v, %v", dec, err)
	}
	wrongEC := map[string]string{"ezfs:volume": "v2", "ezfs:key": "logs", "ezfs:version": "1"}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: wrongEC})
	wantCode(t, err, "InvalidCiphertextException")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String(other)})
	wantCode(t, err, "IncorrectKeyException")
	bad := bytes.Clone(enc.CiphertextBlob)
	bad[len(bad)-1] ^= 1
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: bad, EncryptionContext: ec})
	wantCode(t, err, "InvalidCiphertextException")
}

func TestGenerateDataKey(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	gk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(srv.CreateKey("")),
		KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
	if err != nil || len(gk.Plaintext) != 32 {
		t.Fatalf("GenerateDataKey = %+v, %v", gk, err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: gk.CiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, gk.Plaintext) {
		t.Fatalf("Decrypt of data key = %v", err)
	}
}

func TestRotation(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	arn := srv.CreateKey("")
	old, _ := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(arn), Plaintext: []byte("k"), EncryptionContext: ec})
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(arn)}); err != nil || !st.KeyRotationEnabled {
		t.Fatalf("GetKeyRotationStatus = %+v, %v", st, err)
	}
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("old ciphertext after rotation: %v", err)
	}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: old.CiphertextBlob, SourceEncryptionContext: ec,
		DestinationKeyId: aws.String(arn), DestinationEncryptionContext: ec})
	if err != nil || aws.ToString(re.SourceKeyId) != arn || bytes.Equal(re.CiphertextBlob, old.CiphertextBlob) {
		t.Fatalf("ReEncrypt = %+v, %v", re, err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: ec}); err != nil {
		t.Fatalf("re-encrypted ciphertext: %v", err)
	}
}

func TestKeyStates(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	arn := aws.String(srv.CreateKey(""))
	encrypt := func() error {
		_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("k")})
		return err
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: arn}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, encrypt(), "DisabledException")
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: arn}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, encrypt(), "KMSInvalidStateException")
	dk, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: arn})
	if dk.KeyMetadata.KeyState != types.KeyStatePendingDeletion || dk.KeyMetadata.DeletionDate == nil {
		t.Errorf("DescribeKey of key pending deletion = %+v", dk.KeyMetadata)
	}
	for _, err := range []error{
		func() error { _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: arn}); return err }(),
		func() error { _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: arn}); return err }(),
		encrypt(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestFaults(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	arn := aws.String(srv.CreateKey(""))
	srv.Deny("kms:Encrypt")
	_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("k")})
	wantCode(t, err, "AccessDeniedException")
	if !strings.Contains(err.Error(), "not authorized to perform: kms:Encrypt") {
		t.Errorf("denial does not name the action: %v", err)
	}
	srv.Allow("kms:Encrypt")
	srv.Throttle(1)
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("k")})
	wantCode(t, err, "ThrottlingException")
	if _, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("k")}); err != nil {
		t.Fatal(err)
	}
	if n, total := srv.Calls("Encrypt"), srv.TotalCalls(); n != 3 || total != 3 {
		t.Errorf("calls: Encrypt %d, total %d; want 3, 3 (the Go helper CreateKey is no request)", n, total)
	}
}

func TestEnvelope(t *testing.T) {
	srv := kmstest.Start(t)
	post := func(target, auth string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL()+"/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("TrentService.ListKeys", "x"); code != http.StatusBadRequest {
		t.Errorf("unknown operation: status %d", code)
	}
	if code := post("TrentService.CreateKey", ""); code != http.StatusBadRequest {
		t.Errorf("no Authorization header: status %d", code)
	}
	if code := post("TrentService.CreateKey", "x"); code != http.StatusOK {
		t.Errorf("CreateKey: status %d", code)
	}
	_, err := client(t, srv, "eu-west-1").CreateKey(context.Background(), &kms.CreateKeyInput{})
	wantCode(t, err, "InvalidSignatureException")
}

func TestDownUp(t *testing.T) {
	srv := kmstest.Start(t)
	c := client(t, srv, kmstest.Region)
	ctx := context.Background()
	srv.Down()
	if _, err := c.CreateKey(ctx, &kms.CreateKeyInput{}); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("CreateKey while down: %v", err)
	}
	if err := srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateKey(ctx, &kms.CreateKeyInput{}); err != nil {
		t.Fatalf("CreateKey after Up: %v", err)
	}
}
