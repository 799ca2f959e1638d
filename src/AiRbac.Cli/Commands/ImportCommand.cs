using System.CommandLine;
using AiRbac.Cli.Import;
using AiRbac.Yaml;

namespace AiRbac.Cli.Commands;

/// <summary><c>airbac import keeptrusts FILE</c>: converts a gateway-style <c>rbac</c> block into an AiRbac policy on standard output.</summary>
internal static class ImportCommand
{
    public static Command Create(CliConsole console)
    {
        var file = new Argument<string>("FILE") { Description = "The gateway's YAML configuration, with its 'rbac:' block at the top level or under 'policy:' (policy.rbac, run by policy.policies.chain); '-' reads standard input." };
        var keeptrusts = new Command("keeptrusts", "Convert a gateway runtime 'rbac' block (roles.<r>.allowed_tools/denied_tools, data_access.<r>.max_sensitivity, minimum_necessary.allowed_phi_roles, deny_if_missing: true, false or a list of required headers) into an AiRbac policy on standard output, with a comment for anything that cannot be mapped and a warning for what the gateway needs that no role is granted (model:query for the chat gate). Exit 0 converted, 2 for unreadable or unconvertible input.")
        {
            file,
        };
        keeptrusts.SetAction(parsed => Execute(console, parsed.GetValue(file)!));
        return new Command("import", "Convert another system's access rules into an AiRbac policy.") { keeptrusts };
    }

    private static int Execute(CliConsole console, string path)
    {
        string text;
        if (path == "-")
        {
            text = console.In.ReadToEnd();
        }
        else
        {
            PolicyFiles.RequireFile(path);
            if (new FileInfo(path).Length > KeeptrustsImporter.MaxInputBytes)
            {
                throw new UsageException($"{path}: larger than {KeeptrustsImporter.MaxInputBytes} bytes");
            }

            text = File.ReadAllText(path);
        }

        var result = KeeptrustsImporter.Convert(text, path == "-" ? "<stdin>" : path);
        if (result.Error is not null)
        {
            console.Error.WriteLine($"error: {result.Error}");
            return AirbacCli.ExitUsage;
        }

        // Never print a policy that would not load: check the output with the real loader first.
        var check = YamlPolicy.Compile(result.Policy!, "<imported>");
        if (!check.Succeeded)
        {
            foreach (var diagnostic in check.Diagnostics.Where(d => d.IsError))
            {
                console.Error.WriteLine(diagnostic.ToString());
            }

            console.Error.WriteLine("error: the converted policy does not load; nothing was written");
            return AirbacCli.ExitUsage;
        }

        console.Out.Write(result.Policy);
        foreach (string note in result.Unmapped)
        {
            console.Error.WriteLine($"warning: {note}");
        }

        string source = path == "-" ? "<stdin>" : path;
        foreach (string gap in result.Gaps)
        {
            console.Error.WriteLine($"warning: {source}: not granted: {gap}");
        }

        return AirbacCli.ExitOk;
    }
}
