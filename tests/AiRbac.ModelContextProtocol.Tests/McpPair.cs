using System.IO.Pipelines;
using System.Security.Claims;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AiRbac.ModelContextProtocol.Tests;

/// <summary>An MCP server and client connected in process over two pipes.</summary>
internal sealed class McpPair : IAsyncDisposable
{
    private readonly CancellationTokenSource stop;
    private readonly McpServer server;
    private readonly Task running;

    private McpPair(CancellationTokenSource stop, McpServer server, McpClient client, Task running)
    {
        this.stop = stop;
        this.server = server;
        Client = client;
        this.running = running;
    }

    public McpClient Client { get; }

    public static readonly string[] ToolNames = ["report_weekly", "report_secret", "search", "delete_records", "patient_lookup"];

    public static McpServerOptions Options(List<string> ran, ClaimsPrincipal? user)
    {
        var options = new McpServerOptions { ServerInfo = new Implementation { Name = "test", Version = "1.0" }, ToolCollection = [] };
        foreach (var name in ToolNames)
        {
            options.ToolCollection.Add(McpServerTool.Create(() => { ran.Add(name); return $"{name} done"; }, new McpServerToolCreateOptions { Name = name }));
        }

        // Stands in for the HTTP transport, which sets the authenticated user on every incoming message.
        options.Filters.Message.IncomingFilters.Add(next => (context, cancellationToken) =>
        {
            context.User = user;
            return next(context, cancellationToken);
        });
        return options;
    }

    public static async Task<McpPair> StartAsync(McpServerOptions options, IServiceProvider? services = null)
    {
        var toServer = new Pipe();
        var toClient = new Pipe();
        var server = McpServer.Create(new StreamServerTransport(toServer.Reader.AsStream(), toClient.Writer.AsStream()), options, null, services);
        var stop = new CancellationTokenSource();
        var running = server.RunAsync(stop.Token);
        var client = await McpClient.CreateAsync(new StreamClientTransport(toServer.Writer.AsStream(), toClient.Reader.AsStream()));
        return new McpPair(stop, server, client, running);
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        await stop.CancelAsync();
        await server.DisposeAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }
}
