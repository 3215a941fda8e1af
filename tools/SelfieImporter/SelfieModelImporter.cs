using System.Security.Cryptography;
using SegServe.Tools.SelfieImporter.Conversion;
using SegServe.Tools.SelfieImporter.Onnx;
using SegServe.Tools.SelfieImporter.TfLite;

namespace SegServe.Tools.SelfieImporter;

/// <summary>The import as a whole: TFLite file in, ONNX bytes out. Shared by the command line and the tests.</summary>
public static class SelfieModelImporter
{
    /// <summary>Converts a TFLite file. The result depends only on the file's bytes and name, so re-imports are byte-identical.</summary>
    public static OnnxModel Import(string tflitePath)
    {
        byte[] fileBytes = File.ReadAllBytes(tflitePath);
        string fileName = Path.GetFileName(tflitePath);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(fileBytes));
        var options = new ImportOptions
        {
            GraphName = Path.GetFileNameWithoutExtension(fileName),
            DocString = $"MediaPipe selfie segmentation converted from {fileName} (sha256 {sha256}) by {TfLiteToOnnxConverter.ProducerName}. "
                + "Input 'image': RGB in [0,1], NCHW. Output 'mask': person probability, NCHW.",
        };
        return TfLiteToOnnxConverter.Convert(TfLiteModel.Parse(fileBytes), options);
    }

    /// <summary>One line for logs: node counts by type, initializers and parameters, input and output shapes.</summary>
    public static string Summarize(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var nodeCounts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (OnnxNode node in model.Nodes)
        {
            nodeCounts[node.OpType] = nodeCounts.GetValueOrDefault(node.OpType) + 1;
        }

        long parameters = 0;
        foreach (OnnxTensor initializer in model.Initializers)
        {
            if (initializer.DataType == OnnxDataType.Float)
            {
                parameters += initializer.RawData.Length / sizeof(float);
            }
        }

        string opList = string.Join(", ", nodeCounts.Select(pair => $"{pair.Key} {pair.Value}"));
        string inputs = string.Join(", ", model.Inputs.Select(Describe));
        string outputs = string.Join(", ", model.Outputs.Select(Describe));
        return $"{model.Nodes.Count} nodes ({opList}); {model.Initializers.Count} initializers ({parameters} float parameters); input {inputs}; output {outputs}";
    }

    private static string Describe(OnnxValueInfo value) => $"{value.Name} [{string.Join(',', value.Shape)}]";
}
