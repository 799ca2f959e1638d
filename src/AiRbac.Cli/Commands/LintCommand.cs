using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using AiRbac.Diagnostics;
using AiRbac.Yaml;

namespace AiRbac.Cli.Commands;

/// <summary><c>airbac lint POLICY...</c>: every problem of every file; exit 0 no errors, 1 errors, 2 usage.</summary>
internal static class LintCommand
{
    public static Command Create(CliConsole console)
    {
        var files = new Argument<string[]>("POLICY")
        {
            Description = "One or more policy YAML files.",
            Arity = ArgumentArity.OneOrMore,
        };
        var json = new Option<bool>("--json") { Description = "Print the diagnostics as one JSON object instead of one line each." };
        var command = new Command("lint", "Check policy files and print every error and warning as FILE:LINE:COL: error|warning CODE: message. Exit 0 when there is no error (warnings allowed), 1 when there are errors, 2 on usage errors.")
        {
            files,
            json,
        };
        command.SetAction(parsed => Execute(console, parsed.GetValue(files)!, parsed.GetValue(json)));
        return command;
    }

    private static int Execute(CliConsole console, string[] files, bool json)
    {
        foreach (string file in files)
        {
            PolicyFiles.RequireFile(file);
        }

        var all = new List<PolicyDiagnostic>();
        foreach (string file in files)
        {
            all.AddRange(YamlPolicy.CompileFile(file).Diagnostics);
        }

        int errors = all.Count(d => d.IsError);
        int warnings = all.Count - errors;
        if (json)
        {
            WriteJson(console.Out, files, all, errors, warnings);
        }
        else
        {
            foreach (var diagnostic in all)
            {
                console.Out.WriteLine(diagnostic.ToString());
            }
        }

        console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{errors} error{(errors == 1 ? "" : "s")}, {warnings} warning{(warnings == 1 ? "" : "s")} in {files.Length} file{(files.Length == 1 ? "" : "s")}"));
        return errors > 0 ? AirbacCli.ExitNegative : AirbacCli.ExitOk;
    }

    private static void WriteJson(TextWriter output, string[] files, List<PolicyDiagnostic> all, int errors, int warnings)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("files");
            foreach (string file in files)
            {
                writer.WriteStringValue(file);
            }

            writer.WriteEndArray();
            writer.WriteNumber("errors", errors);
            writer.WriteNumber("warnings", warnings);
            writer.WriteStartArray("diagnostics");
            foreach (var diagnostic in all)
            {
                writer.WriteStartObject();
                writer.WriteString("file", diagnostic.Location.Source);
                writer.WriteNumber("line", diagnostic.Location.Line);
                writer.WriteNumber("column", diagnostic.Location.Column);
                writer.WriteString("severity", diagnostic.IsError ? "error" : "warning");
                writer.WriteString("code", diagnostic.Code);
                writer.WriteString("message", diagnostic.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }
}
