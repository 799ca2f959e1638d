using Microsoft.Extensions.DependencyInjection;

namespace AiRbac.DependencyInjection.Tests;

/// <summary>Mirrors the C# example of docs/dependency-injection.md, with temporary paths.</summary>
public sealed class DocsExampleTests
{
    [Fact]
    public void DependencyInjectionDoc_Example_RunsAndAudits()
    {
        using var temp = new TempDirectory();
        string policyPath = temp.File("policy.yaml");
        string auditPath = temp.File("logs/airbac-audit.jsonl");
        File.WriteAllText(policyPath, Policies.A);
        var failures = new List<PolicyReloadResult>();

        var services = new ServiceCollection();
        services.AddAiRbac(options =>
        {
            options.Source = AiRbacPolicySource.FromFile(policyPath);
            options.AuditLog.Path = auditPath;
            options.OnReloadFailed = failures.Add;
        });
        string text;
        using (var provider = services.BuildServiceProvider())
        {
            var authorizer = provider.GetRequiredService<PolicyAuthorizer>();
            var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
            var decision = authorizer.Authorize(alice, "model:query", "model:gpt");
            text = $"{decision.ReasonName} by policy {authorizer.Version}";
        }

        text.Should().StartWith("allowed by policy " + Policies.Hash(Policies.A)[..12] + "@");
        Policies.ReadRecords(auditPath).Should().ContainSingle();
        failures.Should().BeEmpty();
    }
}
