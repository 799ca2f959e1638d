// A stand-in for a service that authorizes calls with AiRbac, built from the NuGet packages.
// Exits 1 if any decision differs from what the policy is meant to give.
using AiRbac;
using Microsoft.Extensions.DependencyInjection;

// Wire AiRbac as a service would: a watched policy file, an audit log of every decision, metrics.
string auditPath = Path.Combine(Path.GetTempPath(), $"airbac-sample-{Environment.ProcessId}.jsonl");
var services = new ServiceCollection();
services.AddAiRbac(options =>
{
    options.Source = AiRbacPolicySource.FromFile(Path.Combine(AppContext.BaseDirectory, "policy.yaml"));
    options.AuditLog.Path = auditPath;
    options.OnReloadFailed = result =>
    {
        Console.Error.WriteLine(result); // the summary; then every diagnostic, file:line:col: error code: message
        foreach (var diagnostic in result.Diagnostics)
        {
            Console.Error.WriteLine($"  {diagnostic}");
        }
    };
});
var provider = services.BuildServiceProvider();
PolicyAuthorizer authorizer;
try
{
    authorizer = provider.GetRequiredService<PolicyAuthorizer>(); // a bad policy stops the start here
}
catch (PolicyLoadException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
var drChen = Subject.WithRoles("dr-chen", SubjectKind.User, "clinician");
var botForAlice = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent").ActingFor(alice);
var botForDrChen = Subject.WithRoles("support-bot", SubjectKind.Agent, "support-agent").ActingFor(drChen);
var patient = new ResourceRequest("dataset:patients/p-1029");

(string Label, Subject Subject, string Action, ResourceRequest Resource, string Expected)[] calls =
[
    ("agent for alice runs a report tool", botForAlice, "tool:invoke", "tool:report_weekly", "allowed"),
    ("agent for alice reads a patient record", botForAlice, "data:read", patient, "delegation_denied"),
    ("agent for dr-chen reads a patient record", botForDrChen, "data:read", patient, "allowed"),
    ("alice runs a deny-listed tool", alice, "tool:invoke", "tool:shell_exec", "explicit_deny"),
    ("alice reads a patient record", alice, "data:read", patient, "no_matching_grant"),
];

int wrong = 0;
Console.WriteLine($"policy {authorizer.Version}");
foreach (var (label, subject, action, resource, expected) in calls)
{
    var decision = authorizer.Authorize(subject, action, resource);
    bool ok = decision.ReasonName == expected;
    wrong += ok ? 0 : 1;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {label}: {(decision.Allowed ? "ALLOW" : "DENY")} ({decision.ReasonName}; expected {expected})");
    Console.WriteLine($"     {decision.Explain()}");
}

provider.Dispose(); // flushes the audit log
int audited = File.ReadLines(auditPath).Count();
File.Delete(auditPath);
Console.WriteLine($"audit log: {audited} records");
wrong += audited == calls.Length ? 0 : 1;
Console.WriteLine(wrong == 0 ? $"all {calls.Length} decisions as expected" : $"error: {wrong} of {calls.Length} checks failed");
return wrong == 0 ? 0 : 1;
