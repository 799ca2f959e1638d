// A stand-in for a service that authorizes calls with AiRbac, built from the NuGet packages.
// Exits 1 if any decision differs from what the policy is meant to give.
using System.Security.Cryptography;
using AiRbac;
using AiRbac.Yaml;

string path = Path.Combine(AppContext.BaseDirectory, "policy.yaml");
string text = File.ReadAllText(path);
var compilation = YamlPolicy.Compile(text, "policy.yaml");
foreach (var problem in compilation.Diagnostics)
{
    Console.Error.WriteLine(problem);
}

if (compilation.Policy is null)
{
    Console.Error.WriteLine("error: the policy was rejected");
    return 2;
}

// What a service holds: one authorizer, updated when the policy changes (AddAiRbac will do this for you).
var authorizer = new PolicyAuthorizer();
string hash = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
authorizer.Update(compilation.Policy, new PolicyVersion(hash, DateTimeOffset.UtcNow));

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

Console.WriteLine(wrong == 0 ? $"all {calls.Length} decisions as expected" : $"error: {wrong} of {calls.Length} decisions differ");
return wrong == 0 ? 0 : 1;
