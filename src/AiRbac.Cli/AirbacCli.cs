using System.CommandLine;
using System.CommandLine.Help;
using AiRbac.Cli.Commands;

namespace AiRbac.Cli;

/// <summary>The <c>airbac</c> command line: parses arguments and runs one command (docs/cli.md).</summary>
public static class AirbacCli
{
    /// <summary>Exit status: success (allowed, no errors, no change).</summary>
    public const int ExitOk = 0;

    /// <summary>Exit status: the command's negative answer (denied, lint errors, changes found).</summary>
    public const int ExitNegative = 1;

    /// <summary>Exit status: usage error, unreadable file, bad policy or bad input line.</summary>
    public const int ExitUsage = 2;

    /// <summary>Runs the command line with the given streams; data goes to <paramref name="stdout"/>, errors to <paramref name="stderr"/>.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="stdin">Standard input (read by <c>--requests -</c>).</param>
    /// <param name="stdout">Standard output.</param>
    /// <param name="stderr">Standard error.</param>
    /// <returns>The exit status.</returns>
    public static int Run(string[] args, TextReader stdin, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        // Nothing a policy, a request line, an audit log or a file name holds reaches the terminal raw.
        stdout = new TerminalSafeWriter(stdout);
        stderr = new TerminalSafeWriter(stderr);
        var console = new CliConsole(stdin, stdout, stderr);
        var root = BuildRoot(console);
        var parsed = root.Parse(args);
        try
        {
            if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
            {
                foreach (var error in parsed.Errors)
                {
                    stderr.WriteLine($"error: {error.Message}");
                }

                stderr.WriteLine("Run 'airbac --help' or 'airbac COMMAND --help' for usage.");
                return ExitUsage;
            }

            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }

    private static RootCommand BuildRoot(CliConsole console)
    {
        var root = new RootCommand("airbac: lint, check, test, diff, tabulate, review, benchmark and import AiRbac RBAC policies for generative-AI platforms.");
        root.Subcommands.Add(DemoCommand.Create(console));
        root.Subcommands.Add(LintCommand.Create(console));
        root.Subcommands.Add(CheckCommand.Create(console));
        root.Subcommands.Add(TestCommand.Create(console));
        root.Subcommands.Add(FilterCommand.Create(console));
        root.Subcommands.Add(MatrixCommand.Create(console));
        root.Subcommands.Add(DiffCommand.Create(console));
        root.Subcommands.Add(ReviewCommand.Create(console));
        root.Subcommands.Add(BenchCommand.Create(console));
        root.Subcommands.Add(ImportCommand.Create(console));
        return root;
    }
}

/// <summary>The three standard streams a command uses.</summary>
internal sealed record CliConsole(TextReader In, TextWriter Out, TextWriter Error);

/// <summary>A usage problem found after parsing (a missing file, conflicting options); exit status 2.</summary>
internal sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
