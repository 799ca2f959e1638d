using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AiRbac.Agents.AI.Tests;

/// <summary>Stands in for the LLM: answers each request with the next scripted response and records what it was sent.</summary>
internal sealed class ScriptedModel(params Func<IReadOnlyList<ChatMessage>, ChatResponse>[] script) : IChatClient
{
    private int next;

    public List<(List<ChatMessage> Messages, ChatOptions? Options)> Requests { get; } = [];

    public IReadOnlyList<string> ToolNamesSeen(int request = 0)
        => Requests[request].Options?.Tools?.Select(t => t.Name).ToList() ?? [];

    /// <summary>The function results the model was sent in a request, by call id.</summary>
    public Dictionary<string, string?> ResultsSeen(int request)
        => Requests[request].Messages.SelectMany(m => m.Contents).OfType<FunctionResultContent>()
            .ToDictionary(r => r.CallId, r => r.Result?.ToString());

    public static ChatResponse Calls(params (string CallId, string Name)[] calls)
        => new(new ChatMessage(ChatRole.Assistant, calls.Select(c => (AIContent)new FunctionCallContent(c.CallId, c.Name, new Dictionary<string, object?>())).ToList()));

    public static ChatResponse Text(string text) => new(new ChatMessage(ChatRole.Assistant, text));

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sent = messages.ToList();
        Requests.Add((sent, options));
        if (next >= script.Length)
        {
            throw new InvalidOperationException("The script has no more responses.");
        }

        return Task.FromResult(script[next++](sent));
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
        => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("scripted", null, "gpt-4o")
            : serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}

/// <summary>Tools that record whether they ran.</summary>
internal sealed class Tools
{
    public List<string> Ran { get; } = [];

    public AIFunction Make(string name) => AIFunctionFactory.Create(
        () =>
        {
            lock (Ran)
            {
                Ran.Add(name);
            }

            return $"{name} done";
        },
        name);
}
