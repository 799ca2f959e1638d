using Microsoft.Extensions.AI;

namespace AiRbac.Samples.RagRetrieval;

/// <summary>
/// Stands in for an embedding model (also linked into tests/AiRbac.Extensions.AI.Tests): a bag of words, each word of
/// four letters or more (lower-cased) counted in one of <see cref="Dimensions"/> buckets chosen by a fixed hash (FNV-1a),
/// so two texts are similar when they share words, the same on every run and machine.
/// </summary>
public sealed class HashingEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The length of every embedding.</summary>
    public const int Dimensions = 4096;

    /// <summary>The embedding of one text.</summary>
    /// <param name="text">The text.</param>
    /// <returns>Its embedding.</returns>
    public static float[] Embed(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vector = new float[Dimensions];
        foreach (string word in text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            string trimmed = new([.. word.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant)]);
            if (trimmed.Length >= 4)
            {
                vector[Bucket(trimmed)] += 1;
            }
        }

        return vector;
    }

    /// <inheritdoc/>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Task.FromResult(new GeneratedEmbeddings<Embedding<float>>(values.Select(text => new Embedding<float>(Embed(text)))));
    }

    /// <inheritdoc/>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(EmbeddingGeneratorMetadata) ? new EmbeddingGeneratorMetadata("hashing", null, "bag-of-words", Dimensions)
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private static int Bucket(string word)
    {
        uint hash = 2166136261;
        foreach (char c in word)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)(hash % Dimensions);
    }
}
