/**
 * Builds small ONNX models in code (no downloads): multilayer perceptrons with deterministic weights,
 * for tests, benchmarks and the generated platform's sample model. The few onnx.proto messages needed
 * are declared here for protobufjs.
 */
import protobuf from "protobufjs";

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            irVersion: { type: "int64", id: 1 },
            producerName: { type: "string", id: 2 },
            graph: { type: "GraphProto", id: 7 },
            opsetImport: { rule: "repeated", type: "OperatorSetIdProto", id: 8 },
          },
        },
        OperatorSetIdProto: {
          fields: { domain: { type: "string", id: 1 }, version: { type: "int64", id: 2 } },
        },
        GraphProto: {
          fields: {
            node: { rule: "repeated", type: "NodeProto", id: 1 },
            name: { type: "string", id: 2 },
            initializer: { rule: "repeated", type: "TensorProto", id: 5 },
            input: { rule: "repeated", type: "ValueInfoProto", id: 11 },
            output: { rule: "repeated", type: "ValueInfoProto", id: 12 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: "repeated", type: "string", id: 1 },
            output: { rule: "repeated", type: "string", id: 2 },
            name: { type: "string", id: 3 },
            opType: { type: "string", id: 4 },
            attribute: { rule: "repeated", type: "AttributeProto", id: 5 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: "string", id: 1 },
            f: { type: "float", id: 2 },
            i: { type: "int64", id: 3 },
            ints: { rule: "repeated", type: "int64", id: 8, options: { packed: true } },
            type: { type: "int32", id: 20 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: "repeated", type: "int64", id: 1 },
            dataType: { type: "int32", id: 2 },
            floatData: { rule: "repeated", type: "float", id: 4, options: { packed: true } },
            int64Data: { rule: "repeated", type: "int64", id: 7, options: { packed: true } },
            name: { type: "string", id: 8 },
          },
        },
        ValueInfoProto: { fields: { name: { type: "string", id: 1 }, type: { type: "TypeProto", id: 2 } } },
        TypeProto: {
          fields: {
            tensorType: { type: "TypeProtoTensor", id: 1 },
            sequenceType: { type: "TypeProtoSequence", id: 4 },
          },
        },
        TypeProtoSequence: { fields: { elemType: { type: "TypeProto", id: 1 } } },
        TypeProtoTensor: {
          fields: { elemType: { type: "int32", id: 1 }, shape: { type: "TensorShapeProto", id: 2 } },
        },
        TensorShapeProto: { fields: { dim: { rule: "repeated", type: "Dimension", id: 1 } } },
        Dimension: {
          oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
          fields: { dimValue: { type: "int64", id: 1 }, dimParam: { type: "string", id: 2 } },
        },
      },
    },
  },
});
const ModelProto = root.lookupType("onnx.ModelProto");
const FLOAT = 1;
const INT64 = 7;

/** Deterministic pseudo-random numbers (mulberry32) so the same spec builds the same bytes. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MlpOptions {
  /** input features, hidden layer widths, outputs: e.g. [32, 256, 1] */
  layers: number[];
  seed?: number;
  inputName?: string;
  outputName?: string;
  /** sigmoid on the last layer (a probability) */
  sigmoid?: boolean;
  /** explicit weights per layer (row-major [in, out]) and biases, instead of random ones */
  weights?: number[][];
  biases?: number[][];
}

const valueInfo = (name: string, dims: Array<number | string>) => ({
  name,
  type: {
    tensorType: {
      elemType: FLOAT,
      shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
    },
  },
});

/** A float32 MLP: Gemm -> Relu ... -> Gemm [-> Sigmoid], batch dimension "N". */
export function buildMlp(options: MlpOptions): Uint8Array {
  const { layers } = options;
  if (layers.length < 2) throw new Error("an MLP needs at least an input and an output width");
  const random = seededRandom(options.seed ?? 42);
  const inputName = options.inputName ?? "input";
  const outputName = options.outputName ?? "output";
  const nodes: unknown[] = [];
  const initializers: unknown[] = [];
  let current = inputName;
  for (let l = 0; l < layers.length - 1; l++) {
    const [fanIn, fanOut] = [layers[l], layers[l + 1]];
    const scale = Math.sqrt(2 / fanIn);
    const w =
      options.weights?.[l] ?? Array.from({ length: fanIn * fanOut }, () => (random() * 2 - 1) * scale);
    const b = options.biases?.[l] ?? Array.from({ length: fanOut }, () => (random() * 2 - 1) * 0.01);
    initializers.push({ name: `W${l}`, dims: [fanIn, fanOut], dataType: FLOAT, floatData: w });
    initializers.push({ name: `B${l}`, dims: [fanOut], dataType: FLOAT, floatData: b });
    const last = l === layers.length - 2;
    const gemmOut = last && !options.sigmoid ? outputName : `gemm${l}`;
    nodes.push({ input: [current, `W${l}`, `B${l}`], output: [gemmOut], name: `gemm${l}`, opType: "Gemm" });
    current = gemmOut;
    if (!last) {
      nodes.push({ input: [current], output: [`relu${l}`], name: `relu${l}`, opType: "Relu" });
      current = `relu${l}`;
    } else if (options.sigmoid) {
      nodes.push({ input: [current], output: [outputName], name: "sigmoid", opType: "Sigmoid" });
    }
  }
  return encodeModel({
    name: "mlp",
    node: nodes,
    initializer: initializers,
    input: [valueInfo(inputName, ["N", layers[0]])],
    output: [valueInfo(outputName, ["N", layers[layers.length - 1]])],
  });
}

export interface ConvNetOptions {
  /** square input images, this many pixels a side */
  imageSize: number;
  /** [channels, stride] per 3x3 convolution (padding 1), from the 3 input channels on */
  layers: Array<[number, number]>;
  /** the classifier head's outputs */
  classes?: number;
  seed?: number;
}

/**
 * A float32 convolutional network: 3x3 Conv -> Relu per layer, global average pool, a Gemm head;
 * input `images` [N, 3, size, size]. Returns the bytes and its FLOPs per image (2 per multiply-add),
 * so a benchmark can turn a measured time into GFLOP/s.
 */
export function buildConvNet(options: ConvNetOptions): { bytes: Uint8Array; flopsPerImage: number } {
  const random = seededRandom(options.seed ?? 7);
  const classes = options.classes ?? 10;
  const nodes: unknown[] = [];
  const initializers: unknown[] = [];
  const INTS = 7;
  let current = "images";
  let channels = 3;
  let size = options.imageSize;
  let flops = 0;
  options.layers.forEach(([out, stride], l) => {
    const scale = Math.sqrt(2 / (channels * 9));
    initializers.push({
      name: `K${l}`,
      dims: [out, channels, 3, 3],
      dataType: FLOAT,
      floatData: Array.from({ length: out * channels * 9 }, () => (random() * 2 - 1) * scale),
    });
    initializers.push({ name: `C${l}`, dims: [out], dataType: FLOAT, floatData: new Array(out).fill(0) });
    size = Math.floor((size + 2 - 3) / stride) + 1;
    flops += 2 * channels * out * 9 * size * size;
    nodes.push({
      input: [current, `K${l}`, `C${l}`],
      output: [`conv${l}`],
      name: `conv${l}`,
      opType: "Conv",
      attribute: [
        { name: "kernel_shape", ints: [3, 3], type: INTS },
        { name: "pads", ints: [1, 1, 1, 1], type: INTS },
        { name: "strides", ints: [stride, stride], type: INTS },
      ],
    });
    nodes.push({ input: [`conv${l}`], output: [`relu${l}`], name: `relu${l}`, opType: "Relu" });
    current = `relu${l}`;
    channels = out;
  });
  nodes.push({ input: [current], output: ["pooled"], name: "pool", opType: "GlobalAveragePool" });
  nodes.push({ input: ["pooled"], output: ["flat"], name: "flatten", opType: "Flatten" });
  initializers.push({
    name: "W",
    dims: [channels, classes],
    dataType: FLOAT,
    floatData: Array.from({ length: channels * classes }, () => (random() * 2 - 1) * 0.05),
  });
  initializers.push({ name: "B", dims: [classes], dataType: FLOAT, floatData: new Array(classes).fill(0) });
  nodes.push({ input: ["flat", "W", "B"], output: ["logits"], name: "head", opType: "Gemm" });
  flops += 2 * channels * classes;
  const bytes = encodeModel({
    name: "convnet",
    node: nodes,
    initializer: initializers,
    input: [valueInfo("images", ["N", 3, options.imageSize, options.imageSize])],
    output: [valueInfo("logits", ["N", classes])],
  });
  return { bytes, flopsPerImage: flops };
}

/** ONNX element types of the tensors identity models carry. */
const ELEMENT_TYPES = { float16: 10, bfloat16: 16, string: 8, float: FLOAT } as const;

/**
 * A model that returns its input: `input` [N, width] of `type` to `output`, the same. For testing
 * that a tensor type crosses every encoding unchanged.
 */
export function buildIdentity(type: keyof typeof ELEMENT_TYPES, width: number): Uint8Array {
  const info = (name: string) => ({
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[type],
        shape: { dim: [{ dimParam: "N" }, { dimValue: width }] },
      },
    },
  });
  return encodeModel({
    name: `identity-${type}`,
    node: [{ input: ["input"], output: ["output"], name: "identity", opType: "Identity" }],
    input: [info("input")],
    output: [info("output")],
  });
}

/**
 * A model whose output is a sequence of tensors, not a tensor (SequenceConstruct of its float input):
 * a model ONNX Runtime runs and the Open Inference Protocol cannot carry, for testing its refusal.
 */
export function buildSequenceOutput(width: number): Uint8Array {
  const tensor = {
    tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: "N" }, { dimValue: width }] } },
  };
  return encodeModel({
    name: "sequence-output",
    node: [{ input: ["input"], output: ["output"], name: "sequence", opType: "SequenceConstruct" }],
    input: [{ name: "input", type: tensor }],
    output: [{ name: "output", type: { sequenceType: { elemType: tensor } } }],
  });
}

/** A graph as an opset-17 ONNX model, checked against the message declarations. */
function encodeModel(graph: Record<string, unknown>): Uint8Array {
  const model = {
    irVersion: 8,
    producerName: "stackwright",
    opsetImport: [{ domain: "", version: 17 }],
    graph,
  };
  const error = ModelProto.verify(model);
  if (error) throw new Error(`invalid ONNX model: ${error}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/**
 * A model that loads and answers for inputs in [0, 2) (the zeros a server warms up with) but fails at
 * run time for any larger value: it looks each input up, as an index, in a table of two entries. Same
 * input and output as a logistic model over `width` features; for testing what a server does when a
 * loaded model starts to error.
 */
export function buildRunTimeFailure(width: number, outputName = "probability"): Uint8Array {
  const INT = 2;
  return encodeModel({
    name: "fails-at-run-time",
    node: [
      {
        input: ["input"],
        output: ["index"],
        name: "cast",
        opType: "Cast",
        attribute: [{ name: "to", i: INT64, type: INT }],
      },
      { input: ["table", "index"], output: ["looked_up"], name: "gather", opType: "Gather" },
      {
        input: ["looked_up", "axes"],
        output: ["sum"],
        name: "sum",
        opType: "ReduceSum",
        attribute: [{ name: "keepdims", i: 1, type: INT }],
      },
      { input: ["sum"], output: [outputName], name: "sigmoid", opType: "Sigmoid" },
    ],
    initializer: [
      { name: "table", dims: [2], dataType: FLOAT, floatData: [0, 0] },
      { name: "axes", dims: [1], dataType: INT64, int64Data: [1] },
    ],
    input: [valueInfo("input", ["N", width])],
    output: [valueInfo(outputName, ["N", 1])],
  });
}
