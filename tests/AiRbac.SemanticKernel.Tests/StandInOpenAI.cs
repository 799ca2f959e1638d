using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace AiRbac.SemanticKernel.Tests;

/// <summary>
/// Stands in for the OpenAI chat-completions endpoint behind Semantic Kernel's own OpenAI connector (its
/// <c>FunctionCallsProcessor</c> path, not the <c>IChatClient</c> one): answers each request with the next scripted turn,
/// as JSON or as server-sent events when the request streams, and records what it was sent.
/// </summary>
internal sealed class StandInOpenAI(params Func<JsonObject, Turn>[] script) : HttpMessageHandler
{
    private int next;

    public List<JsonObject> Requests { get; } = [];

    /// <summary>The names of the tools a request offered the model.</summary>
    public IReadOnlyList<string> ToolNamesSeen(int request)
        => Requests[request]["tools"] is JsonArray tools ? [.. tools.Select(t => (string)t!["function"]!["name"]!)] : [];

    /// <summary>The tool results a request sent the model, by call id.</summary>
    public Dictionary<string, string> ResultsSeen(int request)
        => ((JsonArray)Requests[request]["messages"]!).Where(m => (string?)m!["role"] == "tool")
            .ToDictionary(m => (string)m!["tool_call_id"]!, m => m!["content"] is JsonValue v ? (string)v! : m["content"]!.ToJsonString());

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = JsonNode.Parse(await request.Content!.ReadAsStringAsync(cancellationToken))!.AsObject();
        Turn turn;
        lock (Requests)
        {
            Requests.Add(body);
            if (next >= script.Length)
            {
                throw new InvalidOperationException("The script has no more turns.");
            }

            turn = script[next++](body);
        }

        bool streaming = body["stream"] is JsonValue stream && (bool)stream;
        string text = streaming ? turn.AsEvents() : turn.AsCompletion();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(text)));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(streaming ? "text/event-stream" : "application/json");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
    }
}

/// <summary>One answer of the model: text, or calls of tools.</summary>
internal sealed record Turn(string? Text, params (string CallId, string Name)[] Calls)
{
    public static Turn Say(string text) => new(text);

    public static Turn Call(params (string CallId, string Name)[] calls) => new(null, calls);

    public string AsCompletion()
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = Text };
        if (Calls.Length > 0)
        {
            message["tool_calls"] = new JsonArray([.. Calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.CallId,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = "{}" },
            })]);
        }

        return new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = "gpt-4o",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = Calls.Length > 0 ? "tool_calls" : "stop" }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 1, ["completion_tokens"] = 1, ["total_tokens"] = 2 },
        }.ToJsonString();
    }

    public string AsEvents()
    {
        var delta = new JsonObject { ["role"] = "assistant" };
        if (Text is not null)
        {
            delta["content"] = Text;
        }

        if (Calls.Length > 0)
        {
            delta["tool_calls"] = new JsonArray([.. Calls.Select((c, i) => (JsonNode)new JsonObject
            {
                ["index"] = i,
                ["id"] = c.CallId,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = "{}" },
            })]);
        }

        static string Chunk(JsonObject delta, string? finish) => "data: " + new JsonObject
        {
            ["id"] = "chatcmpl-1",
            ["object"] = "chat.completion.chunk",
            ["created"] = 1_700_000_000,
            ["model"] = "gpt-4o",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish }),
        }.ToJsonString() + "\n\n";

        return Chunk(delta, null) + Chunk([], Calls.Length > 0 ? "tool_calls" : "stop") + "data: [DONE]\n\n";
    }
}
