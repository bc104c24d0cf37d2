package tcapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Credential finds credentials, in order: TENCENTCLOUD_SECRET_ID and
// TENCENTCLOUD_SECRET_KEY (with TENCENTCLOUD_SESSION_TOKEN, which the SDK's
// own environment provider ignores, or TENCENTCLOUD_SECURITY_TOKEN, the
// name Tencent's Terraform provider reads), the profile file
// (TENCENTCLOUD_CREDENTIALS_FILE, else ~/.tencentcloud/credentials,
// [default]), then tccli's profile (~/.tccli/$TCCLI_PROFILE.credential,
// default "default"). where names the source, for messages.
func Credential() (cred common.CredentialIface, where string, err error) {
	if id, key := os.Getenv("TENCENTCLOUD_SECRET_ID"), os.Getenv("TENCENTCLOUD_SECRET_KEY"); id != "" || key != "" {
		if id == "" || key == "" {
			return nil, "", errors.New("set both TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY")
		}
		token := os.Getenv("TENCENTCLOUD_SESSION_TOKEN")
		if token == "" {
			token = os.Getenv("TENCENTCLOUD_SECURITY_TOKEN")
		}
		return common.NewTokenCredential(id, key, token), "environment", nil
	}
	if c, err := common.DefaultProfileProvider().GetCredential(); err == nil {
		return c, "~/.tencentcloud/credentials", nil
	}
	if c, err := common.NewTccliProfileProvider(tccliProfile()).GetCredential(); err == nil {
		return c, "tccli profile " + tccliProfile(), nil
	}
	return nil, "", errors.New("no credentials: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY " +
		"(and TENCENTCLOUD_SESSION_TOKEN, or TENCENTCLOUD_SECURITY_TOKEN, for temporary ones), or configure tccli")
}

func tccliProfile() string {
	if p := os.Getenv("TCCLI_PROFILE"); p != "" {
		return p
	}
	return "default"
}

// Region returns flag, else TENCENTCLOUD_REGION, else the region of tccli's
// profile (~/.tccli/<profile>.configure, _sys_param.region).
func Region(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if r := os.Getenv("TENCENTCLOUD_REGION"); r != "" {
		return r, nil
	}
	home, _ := os.UserHomeDir()
	raw, err := os.ReadFile(filepath.Join(home, ".tccli", tccliProfile()+".configure"))
	if err == nil {
		var conf struct {
			Sys struct {
				Region string `json:"region"`
			} `json:"_sys_param"`
		}
		if json.Unmarshal(raw, &conf) == nil && conf.Sys.Region != "" {
			return conf.Sys.Region, nil
		}
	}
	return "", fmt.Errorf("no region: give -region (e.g. ap-guangzhou), set TENCENTCLOUD_REGION, or configure tccli")
}
