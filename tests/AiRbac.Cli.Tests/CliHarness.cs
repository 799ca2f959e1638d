namespace AiRbac.Cli.Tests;

/// <summary>What one in-process run of the command line produced.</summary>
public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
}

/// <summary>Runs <c>airbac</c> in process with captured streams.</summary>
internal static class Cli
{
    public static CliResult Run(params string[] args) => RunWithInput(string.Empty, args);

    public static CliResult RunWithInput(string stdin, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int status = AirbacCli.Run(args, new StringReader(stdin), output, error);
        return new CliResult(status, output.ToString(), error.ToString());
    }
}

/// <summary>A temporary folder for policy and corpus files, deleted on dispose.</summary>
internal sealed class TempFiles : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("airbac-cli-tests-").FullName;

    public string Write(string name, string content)
    {
        string path = Path.Combine(root, name);
        File.WriteAllText(path, content);
        return path;
    }

    public string PathOf(string name) => Path.Combine(root, name);

    public void Dispose() => Directory.Delete(root, recursive: true);
}

/// <summary>Small policies used across the tests.</summary>
internal static class Policies
{
    public const string Basic = """
        version: 1
        roles:
          viewer:
            allow:
              - data:read on output:*
            max_sensitivity: internal
          analyst:
            inherits: [viewer]
            allow:
              - model:query on model:gpt-4o
              - tool:invoke on tool:report_*
            deny:
              - tool:invoke on tool:dangerous_*
            max_sensitivity: confidential
          clinician:
            allow: [ "data:read on dataset:patients/**" ]
            max_sensitivity: restricted
            clearances: [phi]
          approver:
            allow: [ "config:approve on config:*" ]
          bot:
            kinds: [agent]
            allow: [ "tool:invoke on tool:search" ]
        resources:
          - match: dataset:patients/**
            sensitivity: restricted
            tags: [phi]
        constraints:
          not_by_owner: [config:approve]
        bindings:
          subjects:
            alice: { kind: user, roles: [analyst] }
        """;

    /// <summary>The basic policy with line numbers known to the tests: analyst's deny is on line 13, column 9.</summary>
    public const int AnalystDenyLine = 13;

    public const string Broken = """
        version: 1
        roles:
          viewer:
            allow:
              - data:read output:*
            inherits: [ghost]
        """;
}
