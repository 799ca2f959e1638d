// AiRbac in the .NET generic host, wired the ordinary way: options bound from appsettings.json (validated at start),
// console logging, the start-up check, a health check and the policy-version gauge read through a MeterListener.
// Runs without input; exits 0 when every check holds, 1 otherwise.
using System.Diagnostics.Metrics;
using AiRbac;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

int failures = 0;
void Check(bool ok, string what)
{
    failures += ok ? 0 : 1;
    Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {what}");
}

// 1. A host with a good policy: it starts, answers, is healthy, and its gauge names the version it serves.
string? gaugeVersion = null;
using var listener = new MeterListener();
listener.InstrumentPublished = (instrument, l) =>
{
    if (instrument.Meter.Name == AiRbacMetrics.MeterName && instrument.Name == AiRbacMetrics.PolicyInfo)
    {
        l.EnableMeasurementEvents(instrument);
    }
};
listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
{
    foreach (var tag in tags)
    {
        if (tag.Key == AiRbacMetrics.PolicyVersionTag && value == 1)
        {
            gaugeVersion = tag.Value as string;
        }
    }
});
listener.Start();

using (var host = BuildHost([]))
{
    await host.StartAsync(); // loads the policy: a bad one stops the start here
    var authorizer = host.Services.GetRequiredService<PolicyAuthorizer>();
    var alice = Subject.WithRoles("alice", SubjectKind.User, "analyst");
    Check(authorizer.Authorize(alice, "model:query", "model:gpt-4o").Allowed, "alice may query gpt-4o");
    Check(authorizer.Authorize(alice, "tool:invoke", "tool:shell_exec").ReasonName == "explicit_deny", "alice may not run a deny-listed tool");

    var report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
    var entry = report.Entries["airbac"];
    Console.WriteLine($"health: {report.Status} ({entry.Description})");
    foreach (var (key, value) in entry.Data)
    {
        Console.WriteLine($"  {key} = {value}");
    }

    Check(report.Status == HealthStatus.Healthy, "the health check is Healthy");
    Check(Equals(entry.Data["policy_version"], authorizer.Version.ContentHash), "the health data names the version that answers");

    listener.RecordObservableInstruments();
    Console.WriteLine($"gauge: {AiRbacMetrics.PolicyInfo}{{{AiRbacMetrics.PolicyVersionTag}={gaugeVersion}}} = 1");
    Check(gaugeVersion == authorizer.Version.ContentHash, "the policy-version gauge names the version that answers");
    await host.StopAsync();
}

// 2. A host whose policy is broken does not start, and says why (every diagnostic).
string broken = Path.Combine(Path.GetTempPath(), $"airbac-hosted-sample-{Environment.ProcessId}.yaml");
File.WriteAllText(broken, "version: 1\nroles:\n  analyst:\n    allow: [model:query on model:gpt-4o]\n    colour: blue\n");
try
{
    using var host = BuildHost([$"--AiRbac:PolicyFile={broken}"]);
    await host.StartAsync();
    Check(false, "a host with a broken policy does not start");
}
catch (PolicyLoadException e)
{
    Console.WriteLine(e.Message);
    Check(e.Diagnostics.Count == 1 && e.Message.Contains("unknown_key", StringComparison.Ordinal), "a host with a broken policy does not start, and names the error");
}
finally
{
    File.Delete(broken);
}

Console.WriteLine(failures == 0 ? "all checks hold" : $"error: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

static IHost BuildHost(string[] args)
{
    // The content root is the output folder, where appsettings.json and policy.yaml are copied: a relative
    // AiRbac:PolicyFile is taken from it.
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
    builder.Logging.ClearProviders();
    builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
    builder.Services.AddAiRbac(builder.Configuration.GetSection("AiRbac"));
    builder.Services.AddHealthChecks().AddAiRbac(tags: ["ready"]);
    return builder.Build();
}
