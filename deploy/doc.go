// Package deploy brings flows on Meta (a WhatsApp Business Account) to
// their local Flow JSON, idempotently: running it twice changes nothing the
// second time.
//
// For each [Flow], [Deployer.DeployFlow]
//
//  1. validates the Flow JSON locally; a flow with errors goes no further;
//  2. finds the flow on Meta: by its deployment record, else by name, else
//     creates it (creating is not safe to repeat: when Meta's answer was
//     lost, the flow is looked up by name instead);
//  3. uploads the Flow JSON only when its content hash differs from the
//     recorded one (with no record, as when another machine deployed it,
//     Meta's copy is downloaded and compared), and records the deployment;
//  4. sets endpoint_uri to PUBLIC_URL/flows/{name} for a flow that uses
//     the data endpoint, when it is not that already;
//  5. reports Meta's validation errors, which stop the flow there;
//  6. publishes a valid draft when [Deployer.Publish] is set.
//
// Progress is reported as [Event] values to [Deployer.Progress], in order,
// and each flow's outcome as a [Result]; the package writes nothing itself.
// [Deployer.Status] compares the flows on Meta, the deployment records and
// the local flows, as "waflow flows status" lists them.
//
// The Graph API is reached through [Client], which *graph.Client
// implements; tests pass graphtest's fake server through a real client.
package deploy
