using System.ComponentModel;
using System.IO.Pipelines;
using System.Security.Claims;
using AiRbac;
using AiRbac.ModelContextProtocol;
using AiRbac.Yaml;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

var authorizer = new PolicyAuthorizer();
// The policy file beside this project (copied to the output), tested by policy.test.yaml with `airbac test`.
authorizer.Update(YamlPolicy.CompileFile(Path.Combine(AppContext.BaseDirectory, "policy.yaml")).Policy!, new PolicyVersion("sample", DateTimeOffset.UtcNow));

// The authenticated user of every message: alice, an analyst. Over HTTP, ModelContextProtocol.AspNetCore's
// WithHttpTransport() sets it from the request; this in-process pair stands in for it with a message filter.
var alice = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "alice"), new Claim(ClaimTypes.Role, "analyst")], "sample"));

// The set-up of docs/integrations.md: the authorizer as a singleton, the tools, then WithAiRbac().
var services = new ServiceCollection();
services.AddSingleton(authorizer);
services.AddMcpServer(o => o.ServerInfo = new Implementation { Name = "airbac-sample", Version = "1.0" })
    .WithTools<DocsTools>()
    .WithMessageFilters(messages => messages.AddIncomingFilter(next => (context, cancellationToken) =>
    {
        context.User = alice;
        return next(context, cancellationToken);
    }))
    .WithAiRbac();
await using var provider = services.BuildServiceProvider();

// Server and client connected in process over two pipes (no network, no child process).
var toServer = new Pipe();
var toClient = new Pipe();
var options = provider.GetRequiredService<IOptions<McpServerOptions>>().Value;
await using var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), options, null, provider);
using var stop = new CancellationTokenSource();
var running = server.RunAsync(stop.Token);

bool failed = false;
await using (var client = await McpClient.CreateAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream())))
{
    var tools = await client.ListToolsAsync();
    Console.WriteLine($"tools/list for alice (analyst): {string.Join(", ", tools.Select(t => t.Name))}");
    if (tools.Any(t => t.Name == "delete_records"))
    {
        Console.WriteLine("error: delete_records was listed");
        failed = true;
    }

    var search = await client.CallToolAsync("search_docs", new Dictionary<string, object?> { ["query"] = "retention" });
    Console.WriteLine($"tools/call search_docs: isError={search.IsError == true}, {Text(search)}");

    // A prompt-injected agent calls the tool it was never shown.
    var delete = await client.CallToolAsync("delete_records", new Dictionary<string, object?> { ["table"] = "customers" });
    Console.WriteLine($"tools/call delete_records: isError={delete.IsError == true}, {Text(delete)}");
    if (delete.IsError != true)
    {
        Console.WriteLine("error: delete_records did not return a tool error");
        failed = true;
    }
}

await stop.CancelAsync();
try
{
    await running;
}
catch (OperationCanceledException)
{
}

failed |= DocsTools.Deleted;
Console.WriteLine(DocsTools.Deleted ? "error: the forbidden tool ran" : "the forbidden tool never ran");
return failed ? 1 : 0;

static string Text(CallToolResult result) => string.Join(" ", result.Content.OfType<TextContentBlock>().Select(c => c.Text));

[McpServerToolType]
internal sealed class DocsTools
{
    public static bool Deleted { get; private set; }

    [McpServerTool(Name = "search_docs"), Description("Searches the documentation.")]
    public static string SearchDocs(string query) => $"3 documents match '{query}'";

    [McpServerTool(Name = "delete_records"), Description("Deletes every record of a table.")]
    public static string DeleteRecords(string table)
    {
        Deleted = true;
        Console.WriteLine($"!!! delete_records ran on {table}");
        return "deleted";
    }
}
