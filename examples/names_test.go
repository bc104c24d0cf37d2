package examples

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// packages are the public packages a doc may name, by the name it uses.
var packages = map[string]string{
	"scfws": "../scfws", "hub": "../scfws/hub", "redisstore": "../scfws/hub/redisstore",
	"hubtest": "../scfws/hub/hubtest", "host": "../scfws/host", "emulator": "../scfws/emulator",
	"route": "../scfws/route", "scfwstest": "../scfws/scfwstest", "client": "../scfws/client",
}

// exported reads a package's exported names: each top-level name, and
// "Type.Member" for each method and struct field.
func exported(t *testing.T, dir string) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	names := map[string]bool{}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					names[d.Name.Name] = true
					continue
				}
				recv := d.Recv.List[0].Type
				if s, ok := recv.(*ast.StarExpr); ok {
					recv = s.X
				}
				if id, ok := recv.(*ast.Ident); ok {
					names[id.Name+"."+d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						names[sp.Name.Name] = true
						if st, ok := sp.Type.(*ast.StructType); ok {
							for _, fld := range st.Fields.List {
								for _, n := range fld.Names {
									names[sp.Name.Name+"."+n.Name] = true
								}
							}
						}
						if it, ok := sp.Type.(*ast.InterfaceType); ok {
							for _, m := range it.Methods.List {
								for _, n := range m.Names {
									names[sp.Name.Name+"."+n.Name] = true
								}
							}
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							names[n.Name] = true
						}
					}
				}
			}
		}
	}
	return names
}

// codeSpan is an inline `…` span; qualified a package-qualified Go name in
// it: pkg.Name or pkg.Type.Member.
var (
	codeSpan  = regexp.MustCompile("`([^`\n]+)`")
	qualified = regexp.MustCompile(`\b(scfws|hub|redisstore|hubtest|host|emulator|route|scfwstest|client)\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)
)

// TestDocNamesExist: every package-qualified Go name written in a code
// span of the READMEs and docs/ (hub.Hub.OnMessage, redisstore.New,
// host.Options.MaxLifetime) exists.
func TestDocNamesExist(t *testing.T) {
	names := map[string]map[string]bool{}
	for pkg, dir := range packages {
		names[pkg] = exported(t, dir)
	}
	docs, _ := filepath.Glob("../docs/*.md")
	docs = append([]string{"../README.md", "../README.zh-CN.md"}, docs...)
	checked := 0
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		require.NoError(t, err)
		for _, span := range codeSpan.FindAllStringSubmatch(string(b), -1) {
			for _, m := range qualified.FindAllStringSubmatch(span[1], -1) {
				pkg, name, member := m[1], m[2], m[3]
				want := name
				if member != "" && !names[pkg][name+"."+member] && names[pkg][name] {
					want = name + "." + member
				}
				checked++
				assert.True(t, names[pkg][want], "%s: `%s` names %s.%s, which package %s does not have", doc, span[1], pkg, want, pkg)
			}
		}
	}
	assert.Positive(t, checked)
}

// TestNamesCheckCatchesAMissingName: the check finds what does not exist.
func TestNamesCheckCatchesAMissingName(t *testing.T) {
	names := exported(t, "../scfws/hub")
	assert.True(t, names["Hub.OnMessage"], "methods are read")
	assert.False(t, names["OnMessage"], "hub.OnMessage is no package-level name")
	assert.True(t, exported(t, "../scfws/host")["Options.MaxLifetime"], "fields are read")
}
