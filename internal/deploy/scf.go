package deploy

// The SCF API's (scf, 2018-04-16) request and answer fields that deploy
// uses; the API ignores none and rejects unknown ones, so every field is
// one it documents.

// Function is GetFunction's answer (the fields used).
type Function struct {
	FunctionName              string
	Namespace                 string
	Status                    string
	StatusDesc                string
	StatusReasons             []StatusReason
	Type                      string
	ProtocolType              string
	Runtime                   string
	Description               string
	Timeout                   int64
	MemorySize                int64
	Environment               *Environment
	VpcConfig                 *VpcConfig
	ProtocolParams            *ProtocolParams
	InstanceConcurrencyConfig *ConcurrencyConfig
}

// StatusReason says why a function failed.
type StatusReason struct{ ErrorCode, ErrorMessage string }

// Environment is a function's variables; an update replaces the whole list.
type Environment struct{ Variables []Variable }

// Variable is one environment variable.
type Variable struct{ Key, Value string }

// VpcConfig is a function's network.
type VpcConfig struct {
	VpcId    string `json:",omitempty"`
	SubnetId string `json:",omitempty"`
}

// ProtocolParams holds the WebSocket settings.
type ProtocolParams struct{ WSParams *WSParams }

// WSParams is the WebSocket idle timeout, in seconds.
type WSParams struct{ IdleTimeOut int64 }

// ConcurrencyConfig is single-instance multi-concurrency.
type ConcurrencyConfig struct {
	DynamicEnabled string
	MaxConcurrency int64 `json:",omitempty"` // [1,100]; absent when cancelling
}

// Code is the zip, inline.
type Code struct{ ZipFile string }

type functionRef struct {
	FunctionName string
	Namespace    string
}

type createFunction struct {
	FunctionName              string
	Namespace                 string
	Type                      string
	ProtocolType              string
	ProtocolParams            *ProtocolParams
	Runtime                   string
	Code                      *Code
	Description               string
	Timeout                   int64
	MemorySize                int64
	Environment               *Environment
	VpcConfig                 *VpcConfig         `json:",omitempty"`
	InstanceConcurrencyConfig *ConcurrencyConfig `json:",omitempty"`
}

type updateCode struct {
	FunctionName string
	Namespace    string
	ZipFile      string
}

type updateConfiguration struct {
	FunctionName              string
	Namespace                 string
	Description               string             `json:",omitempty"`
	Timeout                   int64              `json:",omitempty"`
	MemorySize                int64              `json:",omitempty"`
	Environment               *Environment       `json:",omitempty"`
	VpcConfig                 *VpcConfig         `json:",omitempty"`
	ProtocolParams            *ProtocolParams    `json:",omitempty"`
	InstanceConcurrencyConfig *ConcurrencyConfig `json:",omitempty"`
}

// Trigger is one of ListTriggers' answer.
type Trigger struct {
	Type        string
	TriggerName string
	TriggerDesc string
	Qualifier   string
}

type listTriggers struct {
	FunctionName string
	Namespace    string
	Limit        int64
}

type triggers struct {
	Triggers   []Trigger
	TotalCount int64
}

type createTrigger struct {
	FunctionName string
	Namespace    string
	TriggerName  string
	Type         string
	Qualifier    string
	TriggerDesc  string
}

type deleteTrigger struct {
	FunctionName string
	Namespace    string
	TriggerName  string
	Type         string
	Qualifier    string
}

// URLDesc is a function URL's TriggerDesc: what deploy sends, and the
// addresses the API adds.
type URLDesc struct {
	AuthType  string
	NetConfig NetConfig
}

// NetConfig is where a function URL is reachable, and its addresses.
type NetConfig struct {
	EnableIntranet bool
	EnableExtranet bool
	WssExtranetUrl string `json:",omitempty"`
	WsExtranetUrl  string `json:",omitempty"`
	ExtranetUrl    string `json:",omitempty"`
	WssIntranetUrl string `json:",omitempty"`
	WsIntranetUrl  string `json:",omitempty"`
}
