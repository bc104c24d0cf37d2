module github.com/scfws/scfws-go

go 1.26

require github.com/stretchr/testify v1.12.1

require (
	github.com/go-resty/resty/v2 v2.17.2 // indirect
	github.com/tencentyun/scf-go-lib v0.0.0-20230904103145-13c9a7eeca80 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/net v0.43.0 // indirect
)
