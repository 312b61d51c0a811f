// Package flowsdir reads a flows folder: a business's own flows, served
// next to the catalog's from one registry.
//
// Each flow is a Flow JSON file named after the flow, NAME.json, with an
// optional manifest NAME.waflow.json for what Flow JSON cannot say: title,
// Meta categories, the backend that answers its data endpoint (URL, where
// its signing secret is, timeout, who judges flow tokens) and whether it
// takes a catalog flow's place. docs/flows-folder.md describes the layout
// and every key.
//
// Load validates every file first (Flow JSON with flowjson, manifests
// here, each flow against its manifest and against the registry) and
// adds nothing unless all are valid; each problem names its file, line and
// column. The forwarding handler is built by a function the caller passes
// (Options.Endpoint), so this package depends on no particular one.
package flowsdir
