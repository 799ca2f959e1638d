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

    // The documented OnReloadFailed callback prints the summary and then every diagnostic, not only the count.
    [Fact]
    public void DependencyInjectionDoc_OnReloadFailed_PrintsEveryError()
    {
        string yaml = Policies.A;
        var error = new StringWriter();
        using var provider = new ServiceCollection()
            .AddAiRbac(options =>
            {
                options.Source = AiRbacPolicySource.FromFactory(() => yaml, "policy.yaml");
                options.OnReloadFailed = r =>
                {
                    error.WriteLine(r);
                    foreach (var diagnostic in r.Diagnostics)
                    {
                        error.WriteLine($"  {diagnostic}");
                    }
                };
            })
            .BuildServiceProvider();
        var reloader = provider.GetRequiredService<PolicyReloader>();

        yaml = HostingPolicies.TwoErrors;
        reloader.Reload();

        string text = error.ToString();
        text.Should().Contain("reload failed (2 error(s))")
            .And.Contain("  policy.yaml:5:5: error unknown_key:")
            .And.Contain("  policy.yaml:6:5: error unknown_key:");
    }
}
