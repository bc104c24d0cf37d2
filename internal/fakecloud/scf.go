package fakecloud

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// The fields of the SCF actions served, as the API schema names them; an
// unknown field is UnknownParameter, a missing required one
// MissingParameter.
type (
	variable    struct{ Key, Value string }
	environment struct{ Variables []variable }
	vpcConfig   struct{ VpcId, SubnetId string }
	wsParams    struct{ IdleTimeOut int64 }
	protocolPar struct{ WSParams *wsParams }
	concurrency struct {
		DynamicEnabled string
		MaxConcurrency *int64 // absent when cancelling
	}
	code          struct{ ZipFile string }
	statusReason  struct{ ErrorCode, ErrorMessage string }
	functionQuery struct {
		FunctionName, Namespace, Qualifier string
	}
	functionConfig struct {
		FunctionName              string
		Namespace                 string
		Type                      string
		ProtocolType              string
		ProtocolParams            *protocolPar
		Runtime                   string
		Code                      *code
		Handler                   string
		Description               string
		Timeout                   int64
		MemorySize                int64
		Environment               *environment
		VpcConfig                 *vpcConfig
		InstanceConcurrencyConfig *concurrency
	}
	updateCode struct {
		FunctionName, Namespace, ZipFile, Handler string
	}
	triggerQuery struct {
		FunctionName, Namespace string
		Offset, Limit           int64
	}
	triggerRequest struct {
		FunctionName, Namespace, TriggerName, Type, Qualifier, TriggerDesc string
		Enable                                                             string
	}
	trigger struct {
		Type, TriggerName, TriggerDesc, Qualifier string
		id                                        string
	}
)

// function is one function and what runs it.
type function struct {
	s                 *Server
	key, region, name string
	cfg               functionConfig // its configuration (Code cleared)
	status            string
	reasons           []statusReason
	polls             int
	next              string
	nextReasons       []statusReason
	zip, pending      []byte
	trigger           *trigger

	rmu       sync.Mutex
	dir       string // the unpacked code the instances run
	instances []*instance
}

type handler func(s *Server, region string, body []byte) (any, *apiError)

var actions = map[string]handler{
	"GetFunction":                 getFunction,
	"CreateFunction":              createFunction,
	"UpdateFunctionCode":          updateFunctionCode,
	"UpdateFunctionConfiguration": updateFunctionConfiguration,
	"DeleteFunction":              deleteFunction,
	"ListTriggers":                listTriggers,
	"CreateTrigger":               createTrigger,
	"DeleteTrigger":               deleteTrigger,
}

func decode(body []byte, v any, required ...string) *apiError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if strings.Contains(err.Error(), "unknown field") {
			return &apiError{"UnknownParameter", err.Error()}
		}
		return &apiError{"InvalidParameter", err.Error()}
	}
	var present map[string]json.RawMessage
	_ = json.Unmarshal(body, &present)
	for _, r := range required {
		if _, ok := present[r]; !ok {
			return &apiError{"MissingParameter", "the parameter " + r + " is missing"}
		}
	}
	return nil
}

// named is a request that names a function.
type named interface {
	names() (namespace, name string)
}

func (q *functionQuery) names() (string, string)  { return q.Namespace, q.FunctionName }
func (c *functionConfig) names() (string, string) { return c.Namespace, c.FunctionName }
func (u *updateCode) names() (string, string)     { return u.Namespace, u.FunctionName }
func (q *triggerQuery) names() (string, string)   { return q.Namespace, q.FunctionName }
func (t *triggerRequest) names() (string, string) { return t.Namespace, t.FunctionName }

// target decodes body into req (its required fields present) and finds
// the function it names.
func (s *Server) target(region string, body []byte, req named, required ...string) (*function, *apiError) {
	if e := decode(body, req, required...); e != nil {
		return nil, e
	}
	ns, name := req.names()
	return s.find(region, ns, name)
}

func (s *Server) find(region, namespace, name string) (*function, *apiError) {
	if namespace == "" {
		namespace = "default"
	}
	f := s.functions[region+"/"+namespace+"/"+name]
	if f == nil {
		return nil, &apiError{"ResourceNotFound.Function", fmt.Sprintf("the function %s does not exist", name)}
	}
	return f, nil
}

func getFunction(s *Server, region string, body []byte) (any, *apiError) {
	var q functionQuery
	f, e := s.target(region, body, &q, "FunctionName")
	if e != nil {
		return nil, e
	}
	if f.next != "" {
		if f.polls--; f.polls <= 0 {
			f.status, f.reasons, f.next = f.next, f.nextReasons, ""
			switch f.status {
			case "Active":
				if f.pending != nil {
					f.zip, f.pending = f.pending, nil
					go f.stopInstances() // new connections run the new code
				}
			case "Deleted":
				delete(s.functions, f.key)
				if f.trigger != nil {
					delete(s.urls, f.trigger.id)
				}
				go f.stopInstances()
				return nil, &apiError{"ResourceNotFound.Function", fmt.Sprintf("the function %s does not exist", f.name)}
			default:
				f.pending = nil
			}
		}
	}
	c := f.cfg
	return map[string]any{
		"FunctionName": f.name, "Namespace": c.Namespace, "Status": f.status, "StatusReasons": f.reasons,
		"Type": c.Type, "ProtocolType": c.ProtocolType, "ProtocolParams": c.ProtocolParams, "Runtime": c.Runtime,
		"Description": c.Description, "Timeout": c.Timeout, "MemorySize": c.MemorySize,
		"Environment": c.Environment, "VpcConfig": c.VpcConfig, "InstanceConcurrencyConfig": c.InstanceConcurrencyConfig,
		"Qualifier": "$LATEST",
	}, nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,58}[A-Za-z0-9]$`)

// checkConfig checks what CreateFunction and UpdateFunctionConfiguration
// share.
func checkConfig(c *functionConfig) *apiError {
	if c.MemorySize != 0 && c.MemorySize != 64 && (c.MemorySize < 128 || c.MemorySize > 3072 || c.MemorySize%128 != 0) {
		return &apiError{"InvalidParameterValue.MemorySize", fmt.Sprintf("MemorySize %d is invalid", c.MemorySize)}
	}
	if c.Timeout != 0 && (c.Timeout < 1 || c.Timeout > 900) {
		return &apiError{"LimitExceeded.Timeout", fmt.Sprintf("Timeout %d is outside 1-900", c.Timeout)}
	}
	if c.Environment != nil {
		size := 0
		for _, v := range c.Environment.Variables {
			if v.Key == "" || v.Value == "" {
				return &apiError{"InvalidParameterValue.Environment", "environment keys and values must not be empty"}
			}
			size += len(v.Key) + len(v.Value)
		}
		if size > 4096 {
			return &apiError{"InvalidParameterValue.EnvironmentExceededLimit", "the environment is over 4 KB"}
		}
	}
	if ic := c.InstanceConcurrencyConfig; ic != nil {
		switch {
		case ic.DynamicEnabled == "" && ic.MaxConcurrency != nil:
			// "''时取消多并发配置": a cancel carries no MaxConcurrency
			return &apiError{"InvalidParameterValue.MaxConcurrency", "MaxConcurrency with DynamicEnabled '' (a cancel)"}
		case ic.DynamicEnabled != "" && (ic.MaxConcurrency == nil || *ic.MaxConcurrency < 1 || *ic.MaxConcurrency > 100):
			return &apiError{"InvalidParameterValue.MaxConcurrency", "MaxConcurrency is outside [1,100]"}
		}
	}
	if len([]rune(c.Description)) > 1000 || strings.IndexFunc(c.Description, notDescription) >= 0 {
		// models.go: "最大支持 1000 个英文字母、数字、空格、逗号、换行符和英文句号，支持中文"
		return &apiError{"InvalidParameterValue.Description", "Description: at most 1000 English letters, digits, " +
			"spaces, commas, newlines and periods, or Chinese"}
	}
	if c.Environment != nil {
		for _, v := range c.Environment.Variables {
			if !envKey.MatchString(v.Key) || reservedEnv.MatchString(v.Key) {
				// 583/14570: "key 必须以字母 [a-zA-Z] 开头,只能包含字母数字字符和下划线";
				// SCF_, QCLOUD_, TENCENTCLOUD_ are reserved
				return &apiError{"InvalidParameterValue.Environment", "environment key " + v.Key + " is invalid or reserved"}
			}
		}
	}
	if p := c.ProtocolParams; p != nil && p.WSParams != nil && (p.WSParams.IdleTimeOut < 10 || p.WSParams.IdleTimeOut > 1800) {
		// the API model: 1~1800 s; the WebSocket page: 10~7200 s
		return &apiError{"InvalidParameterValue.IdleTimeOut", "WSParams.IdleTimeOut is outside 10-1800"}
	}
	if v := c.VpcConfig; v != nil && (v.VpcId == "" || v.SubnetId == "") {
		return &apiError{"InvalidParameterValue.VpcConfig", "VpcConfig needs VpcId and SubnetId"}
	}
	return nil
}

var (
	envKey      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{1,63}$`)
	reservedEnv = regexp.MustCompile(`^(SCF_|QCLOUD_|TENCENTCLOUD_)`)
)

// notDescription reports a character the API does not document for
// Description.
func notDescription(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == ' ', r == ',', r == '\n', r == '.':
		return false
	}
	return !unicode.Is(unicode.Han, r)
}

// unzip decodes a ZipFile and checks it; reasons say why it cannot start.
func unzip(b64 string) ([]byte, []statusReason, *apiError) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, nil, &apiError{"InvalidParameterValue.ZipFileBase64BinasciiError", "ZipFile is not base64"}
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, nil, &apiError{"InvalidParameterValue.ZipFile", "ZipFile is not a zip: " + err.Error()}
	}
	for _, f := range zr.File {
		if f.Name == "scf_bootstrap" {
			if f.Mode().Perm()&0o111 != 0o111 {
				return raw, []statusReason{{"InvalidBootstrap", "scf_bootstrap must have mode 755 or 777"}}, nil
			}
			return raw, nil, nil
		}
	}
	return raw, []statusReason{{"InvalidBootstrap", "no scf_bootstrap at the root of the zip: a Web function starts with it"}}, nil
}

func createFunction(s *Server, region string, body []byte) (any, *apiError) {
	var c functionConfig
	if e := decode(body, &c, "FunctionName", "Code"); e != nil {
		return nil, e
	}
	if !namePattern.MatchString(c.FunctionName) {
		return nil, &apiError{"InvalidParameterValue.FunctionName", "FunctionName is invalid"}
	}
	if c.Code == nil || c.Code.ZipFile == "" {
		return nil, &apiError{"MissingParameter.Code", "Code.ZipFile is missing"}
	}
	if c.Runtime != "" && !strings.Contains(" Go1 CustomRuntime Python3.9 Nodejs16.13 ", " "+c.Runtime+" ") {
		return nil, &apiError{"InvalidParameterValue.Runtime", "Runtime " + c.Runtime + " is not supported"}
	}
	if c.ProtocolType != "" && (c.Type != "HTTP" || c.ProtocolType != "WS") {
		return nil, &apiError{"InvalidParameterValue.ProtocolType", "ProtocolType WS needs Type HTTP"}
	}
	if e := checkConfig(&c); e != nil {
		return nil, e
	}
	if c.ProtocolParams != nil && c.ProtocolParams.WSParams != nil && c.Timeout < c.ProtocolParams.WSParams.IdleTimeOut {
		return nil, &apiError{"InvalidParameterValue.Timeout", "Timeout must be at least WSParams.IdleTimeOut"}
	}
	raw, reasons, e := unzip(c.Code.ZipFile)
	if e != nil {
		return nil, e
	}
	if c.Namespace == "" {
		c.Namespace = "default"
	}
	key := region + "/" + c.Namespace + "/" + c.FunctionName
	if s.functions[key] != nil {
		return nil, &apiError{"ResourceInUse.Function", "the function " + c.FunctionName + " already exists"}
	}
	c.Code = nil
	f := &function{s: s, key: key, region: region, name: c.FunctionName, cfg: c, status: "Creating",
		polls: s.settle, next: "Active", pending: raw}
	if reasons != nil {
		f.next, f.nextReasons, f.pending = "CreateFailed", reasons, nil
	}
	s.functions[key] = f
	return map[string]any{}, nil
}

func updateFunctionCode(s *Server, region string, body []byte) (any, *apiError) {
	var u updateCode
	f, e := s.target(region, body, &u, "FunctionName")
	if e != nil {
		return nil, e
	}
	if f.status != "Active" && f.status != "UpdateFailed" || f.next != "" {
		return nil, &apiError{"FailedOperation.UpdateFunctionCode", "当前函数处于" + f.status + "状态,无法进行此操作,请稍后重试。"}
	}
	raw, reasons, e := unzip(u.ZipFile)
	if e != nil {
		return nil, e
	}
	f.status, f.polls, f.next, f.pending = "Updating", s.settle, "Active", raw
	if reasons != nil {
		f.next, f.nextReasons, f.pending = "UpdateFailed", reasons, nil // the old code keeps serving
	}
	return map[string]any{}, nil
}

func updateFunctionConfiguration(s *Server, region string, body []byte) (any, *apiError) {
	var c functionConfig
	if e := decode(body, &c, "FunctionName"); e != nil {
		return nil, e
	}
	if c.Type != "" || c.ProtocolType != "" || c.Code != nil || c.Runtime != "" {
		return nil, &apiError{"UnknownParameter", "Type, ProtocolType, Code and Runtime cannot be updated here"}
	}
	f, e := s.find(region, c.Namespace, c.FunctionName)
	if e != nil {
		return nil, e
	}
	if f.status != "Active" || f.next != "" {
		return nil, &apiError{"FailedOperation.UpdateFunctionConfiguration", "当前函数状态无法进行此操作，请在函数状态正常时重试。"}
	}
	if e := checkConfig(&c); e != nil {
		return nil, e
	}
	cur := &f.cfg
	if c.Description != "" {
		cur.Description = c.Description
	}
	if c.Timeout != 0 {
		cur.Timeout = c.Timeout
	}
	if c.MemorySize != 0 {
		cur.MemorySize = c.MemorySize
	}
	if c.Environment != nil {
		cur.Environment = c.Environment // the whole list
	}
	if c.VpcConfig != nil {
		cur.VpcConfig = c.VpcConfig
	}
	if c.ProtocolParams != nil {
		cur.ProtocolParams = c.ProtocolParams
	}
	if c.InstanceConcurrencyConfig != nil {
		cur.InstanceConcurrencyConfig = c.InstanceConcurrencyConfig
		if c.InstanceConcurrencyConfig.DynamicEnabled == "" {
			cur.InstanceConcurrencyConfig = nil
		}
	}
	f.status, f.polls, f.next = "Updating", s.settle, "Active"
	go f.stopInstances() // the new environment applies to new instances
	return map[string]any{}, nil
}

func deleteFunction(s *Server, region string, body []byte) (any, *apiError) {
	var q functionQuery
	f, e := s.target(region, body, &q, "FunctionName")
	if e != nil {
		return nil, e
	}
	if f.next != "" {
		return nil, &apiError{"FailedOperation.DeleteFunction", "the function is " + f.status + ": try again when it settles"}
	}
	f.status, f.polls, f.next = "Deleting", s.settle, "Deleted"
	return map[string]any{}, nil
}

func listTriggers(s *Server, region string, body []byte) (any, *apiError) {
	var q triggerQuery
	f, e := s.target(region, body, &q, "FunctionName")
	if e != nil {
		return nil, e
	}
	ts := []trigger{}
	if f.trigger != nil {
		ts = append(ts, *f.trigger)
	}
	return map[string]any{"Triggers": ts, "TotalCount": len(ts)}, nil
}

func createTrigger(s *Server, region string, body []byte) (any, *apiError) {
	var t triggerRequest
	f, e := s.target(region, body, &t, "FunctionName", "TriggerName", "Type")
	if e != nil {
		return nil, e
	}
	if t.Type != "http" {
		return nil, &apiError{"InvalidParameterValue.Type", "only the function URL (Type http) is served here"}
	}
	if f.trigger != nil {
		return nil, &apiError{"ResourceInUse.Trigger", "the function already has a function URL"}
	}
	var desc struct {
		AuthType  string
		NetConfig struct{ EnableIntranet, EnableExtranet bool }
	}
	if err := json.Unmarshal([]byte(t.TriggerDesc), &desc); err != nil || (desc.AuthType != "NONE" && desc.AuthType != "CAM") {
		return nil, &apiError{"InvalidParameterValue.TriggerDesc", "TriggerDesc must be JSON with AuthType NONE or CAM"}
	}
	id := newID(16)
	path := "/url/" + id + "/"
	net := map[string]any{"EnableIntranet": desc.NetConfig.EnableIntranet, "EnableExtranet": desc.NetConfig.EnableExtranet}
	if desc.NetConfig.EnableExtranet {
		api, tls := strings.TrimPrefix(s.api.URL, "http://"), strings.TrimPrefix(s.tls.URL, "https://")
		net["ExtranetUrl"], net["ExtranetHTTPUrl"] = "https://"+tls+path, "http://"+api+path
		if f.cfg.ProtocolType == "WS" {
			net["WssExtranetUrl"], net["WsExtranetUrl"] = "wss://"+tls+path, "ws://"+api+path
		}
	}
	full, _ := json.Marshal(map[string]any{"AuthType": desc.AuthType, "NetConfig": net})
	q := t.Qualifier
	if q == "" {
		q = "$DEFAULT"
	}
	f.trigger = &trigger{Type: "http", TriggerName: t.TriggerName, TriggerDesc: string(full), Qualifier: q, id: id}
	s.urls[id] = f
	return map[string]any{"TriggerInfo": f.trigger}, nil
}

func deleteTrigger(s *Server, region string, body []byte) (any, *apiError) {
	var t triggerRequest
	f, e := s.target(region, body, &t, "FunctionName", "TriggerName", "Type")
	if e != nil {
		return nil, e
	}
	if f.trigger == nil || f.trigger.TriggerName != t.TriggerName {
		return nil, &apiError{"ResourceNotFound.Trigger", "no trigger " + t.TriggerName}
	}
	delete(s.urls, f.trigger.id)
	f.trigger = nil
	return map[string]any{}, nil
}
