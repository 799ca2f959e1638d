using System.CommandLine;
using System.Globalization;
using AiRbac.Cli.Testing;
using AiRbac.Diagnostics;
using AiRbac.Model;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;

namespace AiRbac.Cli.Commands;

/// <summary>
/// <c>airbac test TESTS... [--min-coverage P] [--junit FILE]</c>: runs policy test files (docs/policy-testing.md) and
/// reports failures, one <c>FILE:LINE:COL: error test_failed: ...</c> line each, and rule coverage; exit 0 all passed
/// (and coverage met), 1 a case failed or coverage is below the minimum, 2 usage, a test file or policy that cannot be read.
/// </summary>
internal static class TestCommand
{
    /// <summary>Diagnostic code of an item of the policy that no passing case exercised.</summary>
    public const string NotCovered = "not_covered";

    /// <summary>Diagnostic code of a policy whose coverage is below <c>--min-coverage</c>.</summary>
    public const string CoverageBelowMinimum = "coverage_below_minimum";

    private const int MaxTestFiles = Tuning.Cli.MaxTestFiles;

    public static Command Create(CliConsole console)
    {
        var tests = new Argument<string[]>("TESTS")
        {
            Description = "Test files, or glob patterns of them ('policies/**/*.test.yaml'; quote them so the shell does not expand them). A pattern that matches no file is an error.",
            Arity = ArgumentArity.OneOrMore,
        };
        var minCoverage = new Option<string>("--min-coverage")
        {
            Description = "Fail (exit 1) when a policy's rule coverage is below this percentage, 0 to 100: the share of its grants, denies, resources entries, mutually_exclusive lists and not_by_owner entries that decided a passing case.",
            HelpName = "PERCENT",
        };
        var junit = new Option<string>("--junit") { Description = "Also write the results as JUnit XML to this file, for CI test reports.", HelpName = "FILE" };
        var command = new Command("test", "Run policy test files: each case is a request line and the decision it expects (allowed, and optionally reason, role, rule). Prints one FILE:LINE:COL: error line per failed case and the rule coverage of each policy. Exit 0 when every case passed (and coverage meets --min-coverage), 1 when a case failed or coverage is below it, 2 on usage errors or a test file or policy that cannot be read.")
        {
            tests,
            minCoverage,
            junit,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(tests)!, parsed.GetValue(minCoverage), parsed.GetValue(junit)));
        return command;
    }

    private static int Execute(CliConsole console, string[] patterns, string? minCoverageText, string? junitPath)
    {
        decimal? minimum = null;
        if (minCoverageText is not null)
        {
            minimum = decimal.TryParse(minCoverageText, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value) && value is >= 0 and <= 100
                ? value
                : throw new UsageException($"--min-coverage: '{UnsafeText.Escape(DiagnosticText.Clip(minCoverageText))}' is not a percentage from 0 to 100");
        }

        var files = Expand(patterns);
        var start = DateTimeOffset.UtcNow;
        var total = System.Diagnostics.Stopwatch.StartNew();
        var run = new PolicyTestRun(start);
        var results = files.Select(run.RunFile).ToList();
        var output = console.Out;
        foreach (var file in results)
        {
            foreach (var error in file.Errors)
            {
                output.WriteLine(error.ToString());
            }

            foreach (var failed in file.Cases.Where(c => !c.Passed))
            {
                output.WriteLine(PolicyDiagnostic.Error(PolicyTestRun.TestFailed, failed.Failure!, failed.Case.Location).ToString());
                output.WriteLine($"    request:  {failed.Case.RequestLine}");
                output.WriteLine($"    expected: {PolicyTestRun.ExpectationLine(failed.Case.Expect)}");
                output.WriteLine($"    decision: {PolicyTestRun.DecisionLine(failed.Decision)}");
            }

            string status = file.Errors.Count > 0 ? "ERROR" : file.Failures > 0 ? "FAIL " : "ok   ";
            output.WriteLine(file.Errors.Count > 0
                ? $"{status} {file.Path}: not run"
                : string.Create(CultureInfo.InvariantCulture, $"{status} {file.Path}: {file.Cases.Count - file.Failures} of {file.Cases.Count} cases passed ({file.PolicyPath})"));
        }

        var coverage = new List<(PolicyUnderTest Policy, bool Met)>();
        foreach (var policy in run.Policies.Where(p => p.Coverage is not null))
        {
            var rules = policy.Coverage!;
            bool met = minimum is not { } min || rules.Meets(min);
            coverage.Add((policy, met));
            output.WriteLine($"coverage {policy.DisplayPath}: {rules.Summary()}");
            int listed = 0;
            foreach (var item in rules.Uncovered)
            {
                if (++listed > Tuning.Compile.MaxReportedDiagnostics)
                {
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"... and {rules.Items.Count - rules.Covered - Tuning.Compile.MaxReportedDiagnostics} more not covered"));
                    break;
                }

                output.WriteLine(PolicyDiagnostic.Warning(NotCovered, $"{item.Describe()} {rules.Missing(item)}", item.Location).ToString());
            }

            if (!met)
            {
                output.WriteLine(PolicyDiagnostic.Error(CoverageBelowMinimum,
                    string.Create(CultureInfo.InvariantCulture, $"rule coverage {rules.Percent:0.0}% ({rules.Covered} of {rules.Items.Count}) is below --min-coverage {minimum}"),
                    new SourceLocation(policy.DisplayPath, 1, 1)).ToString());
            }
        }

        if (junitPath is not null)
        {
            using var stream = new FileStream(junitPath, FileMode.Create, FileAccess.Write, FileShare.Read);
            // Coverage is a test of its own only when it is enforced.
            JUnitReport.Write(stream, results, minimum is null ? [] : coverage, minimum, total.Elapsed.TotalSeconds);
        }

        int cases = results.Sum(f => f.Cases.Count);
        int failures = results.Sum(f => f.Failures);
        int broken = results.Count(f => f.Errors.Count > 0);
        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"airbac test: {cases - failures} passed, {failures} failed, {broken} test file{(broken == 1 ? "" : "s")} not run, in {results.Count} file{(results.Count == 1 ? "" : "s")}; coverage below minimum: {coverage.Count(c => !c.Met)} polic{(coverage.Count(c => !c.Met) == 1 ? "y" : "ies")}"));
        return broken > 0 ? AirbacCli.ExitUsage
            : failures > 0 || coverage.Any(c => !c.Met) ? AirbacCli.ExitNegative
            : AirbacCli.ExitOk;
    }

    /// <summary>
    /// The test files: a path as given, or a glob pattern (<c>*</c>, <c>**</c>, <c>?</c>, <c>[...]</c>) matched with
    /// Microsoft.Extensions.FileSystemGlobbing below its leading folders without wildcards; each file once, in the order
    /// given (a pattern's matches in ordinal order). A path that does not exist, or a pattern that matches nothing, is a
    /// usage error: a CI job must not pass because its tests went missing.
    /// </summary>
    internal static List<string> Expand(string[] patterns)
    {
        var files = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string pattern in patterns)
        {
            if (pattern.IndexOfAny(['*', '?', '[']) < 0)
            {
                PolicyFiles.RequireFile(pattern);
                Add(pattern);
                continue;
            }

            string normalized = pattern.Replace('\\', '/');
            int wildcard = normalized.IndexOfAny(['*', '?', '[']);
            int cut = normalized.LastIndexOf('/', wildcard);
            string root = cut < 0 ? "." : cut == 0 ? "/" : normalized[..cut];
            string rest = normalized[(cut + 1)..];
            if (!Directory.Exists(root))
            {
                throw new UsageException($"no test file matches '{pattern}': the folder '{root}' does not exist");
            }

            var matcher = new Matcher(StringComparison.Ordinal);
            matcher.AddInclude(rest);
            var matches = matcher.Execute(new DirectoryInfoWrapper(new DirectoryInfo(root))).Files
                .Select(m => cut < 0 ? m.Path : Path.Combine(root, m.Path))
                .Order(StringComparer.Ordinal)
                .ToList();
            if (matches.Count == 0)
            {
                throw new UsageException($"no test file matches '{pattern}'");
            }

            matches.ForEach(Add);
        }

        return files;

        void Add(string file)
        {
            if (seen.Add(Path.GetFullPath(file)))
            {
                files.Add(file);
                if (files.Count > MaxTestFiles)
                {
                    throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"the patterns match more than {MaxTestFiles} test files"));
                }
            }
        }
    }
}
