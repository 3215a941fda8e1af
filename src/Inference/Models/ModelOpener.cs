using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Execution;
using SegServe.Inference.Instances;

namespace SegServe.Inference.Models;

/// <summary>What opening a model folder produced.</summary>
/// <param name="Manifest">The manifest (with class names from the ONNX metadata where it lists none).</param>
/// <param name="Session">The ONNX Runtime session.</param>
/// <param name="Provider">The execution provider it runs on, and why.</param>
/// <param name="Input">The image input.</param>
/// <param name="Inputs">Every graph input.</param>
/// <param name="Outputs">Every graph output.</param>
/// <param name="Decoded">The outputs the service reads, the main one first.</param>
internal sealed record OpenedModel(
    ModelManifest Manifest,
    InferenceSession Session,
    ExecutionProviderChoice Provider,
    TensorInfo Input,
    IReadOnlyList<TensorInfo> Inputs,
    IReadOnlyList<TensorInfo> Outputs,
    IReadOnlyList<TensorInfo> Decoded);

/// <summary>Reads a model folder: the manifest, then the ONNX file, checked against each other.</summary>
internal static partial class ModelOpener
{
    /// <exception cref="ModelLoadException">model.json is missing, unreadable, inconsistent or names another model.</exception>
    public static ModelManifest ReadManifest(string name, string directory)
    {
        string manifestPath = Path.Combine(directory, "model.json");
        if (!File.Exists(manifestPath))
        {
            throw new ModelLoadException("model.json is missing.");
        }

        ModelManifest manifest = ModelManifest.Parse(File.ReadAllText(manifestPath));
        if (manifest.Name is not null && !string.Equals(manifest.Name, name, StringComparison.Ordinal))
        {
            throw new ModelLoadException($"model.json names the model '{manifest.Name}' but its folder is '{name}'.");
        }

        IReadOnlyList<string> problems = manifest.Validate();
        return problems.Count > 0 ? throw new ModelLoadException("model.json: " + string.Join(" ", problems)) : manifest;
    }

    /// <summary>Creates the session and checks the graph's signature against the manifest.</summary>
    /// <exception cref="ModelLoadException">model.onnx is missing, cannot be opened, or does not fit the manifest.</exception>
    public static OpenedModel Open(string directory, ModelManifest manifest, InferenceOptions options)
    {
        string modelPath = Path.Combine(directory, "model.onnx");
        if (!File.Exists(modelPath))
        {
            throw new ModelLoadException("model.onnx is missing.");
        }

        (InferenceSession session, ExecutionProviderChoice provider) = OpenSession(modelPath, options);
        try
        {
            IReadOnlyList<TensorInfo> inputs = Describe(session.InputMetadata);
            IReadOnlyList<TensorInfo> outputs = Describe(session.OutputMetadata);
            TensorInfo input = SignatureCheck.SelectInput(manifest, inputs);
            if (manifest.Task != SegmentationTask.Instance)
            {
                return new OpenedModel(manifest, session, provider, input, inputs, outputs, [SignatureCheck.SelectOutput(manifest, outputs)]);
            }

            if (manifest.Classes.Count == 0)
            {
                // Ultralytics writes the class names into the ONNX metadata ("names": "{0: 'person', …}").
                manifest = manifest with { Classes = ClassNamesFromMetadata(session) };
            }

            // Validate() has checked the family.
            _ = InstanceFamilies.TryParse(manifest.Family, out InstanceFamily family);
            return new OpenedModel(manifest, session, provider, input, inputs, outputs, InstanceFamilies.SelectOutputs(family, outputs));
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The classes of an Ultralytics export, from its metadata's <c>names</c> (a Python dict literal).</summary>
    /// <exception cref="ModelLoadException">The metadata has no readable names.</exception>
    private static List<ClassSpec> ClassNamesFromMetadata(InferenceSession session)
    {
        if (!session.ModelMetadata.CustomMetadataMap.TryGetValue("names", out string? names) || string.IsNullOrWhiteSpace(names))
        {
            throw new ModelLoadException("model.json lists no classes and the ONNX metadata has no 'names': list the classes in model.json.");
        }

        var classes = new List<ClassSpec>();
        foreach (Match m in PythonDictEntry().Matches(names))
        {
            int id = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            string name = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value;
            if (id != classes.Count)
            {
                throw new ModelLoadException($"The ONNX metadata's names are not numbered 0, 1, 2, … (found {id} after {classes.Count - 1}).");
            }

            classes.Add(new ClassSpec { Id = id, Name = name });
        }

        return classes.Count > 0 ? classes : throw new ModelLoadException($"The ONNX metadata's names '{names[..Math.Min(80, names.Length)]}' could not be read.");
    }

    private static (InferenceSession, ExecutionProviderChoice) OpenSession(string modelPath, InferenceOptions options)
    {
        try
        {
            return SessionFactory.Create(modelPath, options);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException)
        {
            throw new ModelLoadException($"model.onnx could not be opened by ONNX Runtime: {ex.Message}", ex);
        }
    }

    private static List<TensorInfo> Describe(IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var list = new List<TensorInfo>(metadata.Count);
        foreach (KeyValuePair<string, NodeMetadata> pair in metadata)
        {
            list.Add(TensorInfo.From(pair.Key, pair.Value));
        }

        return list;
    }

    [GeneratedRegex(@"(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|""((?:[^""\\]|\\.)*)"")")]
    private static partial Regex PythonDictEntry();
}
